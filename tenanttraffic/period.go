package tenanttraffic

import (
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
)

// Period is a span that usage and analytics are summed over: a UTC
// calendar day, ISO week (from Monday) or month.
type Period string

// The periods; month is the default.
const (
	PeriodDay   Period = "day"
	PeriodWeek  Period = "week"
	PeriodMonth Period = "month"
)

// BandwidthMaxDays bounds a bandwidth-daily range; BandwidthDefaultDays
// is the range without from.
const (
	BandwidthMaxDays     = 92
	BandwidthDefaultDays = 30
)

var (
	// ErrBadPeriod refuses a period other than day, week and month.
	ErrBadPeriod = errkind.New(errkind.Invalid, "period must be day, week or month")
	// ErrBadRange refuses a bandwidth range that is not two dates at most
	// 92 days apart.
	ErrBadRange = errkind.New(errkind.Invalid, "from and to must be YYYY-MM-DD dates, from not after to, at most 92 days in all")
)

// ParsePeriod reads a period query value; "" is month.
func ParsePeriod(s string) (Period, error) {
	switch p := Period(s); p {
	case "":
		return PeriodMonth, nil
	case PeriodDay, PeriodWeek, PeriodMonth:
		return p, nil
	}
	return "", ErrBadPeriod
}

// span is an inclusive range of UTC days.
type span struct{ from, to int32 }

// bounds returns the period that holds day now, and the one before.
func (p Period) bounds(now time.Time) (cur, prev span) {
	now = now.UTC()
	today := dayOf(now)
	switch p {
	case PeriodDay:
		return span{today, today}, span{today - 1, today - 1}
	case PeriodWeek:
		monday := today - int32((now.Weekday()+6)%7)
		return span{monday, monday + 6}, span{monday - 7, monday - 1}
	}
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	next, before := first.AddDate(0, 1, 0), first.AddDate(0, -1, 0)
	return span{dayOf(first), dayOf(next) - 1}, span{dayOf(before), dayOf(first) - 1}
}

// Range is a parsed bandwidth-daily range.
type Range struct{ span }

// ParseRange reads from and to (YYYY-MM-DD, inclusive). Without to, the
// range ends today (UTC); without from, it is BandwidthDefaultDays long.
func ParseRange(from, to string, now time.Time) (Range, error) {
	t := dayOf(now)
	if to != "" {
		var ok bool
		if t, ok = parseDay(to); !ok {
			return Range{}, ErrBadRange
		}
	}
	f := t - BandwidthDefaultDays + 1
	if from != "" {
		var ok bool
		if f, ok = parseDay(from); !ok {
			return Range{}, ErrBadRange
		}
	}
	if f > t || t-f+1 > BandwidthMaxDays {
		return Range{}, ErrBadRange
	}
	return Range{span{f, t}}, nil
}

// StatusCounts are answers by status class.
type StatusCounts struct {
	S2xx int64 `json:"2xx"`
	S3xx int64 `json:"3xx"`
	S4xx int64 `json:"4xx"`
	S5xx int64 `json:"5xx"`
}

// Figures are a surface's (or both surfaces') counts as the API shows
// them. HitRate is hits over requests, 0 without requests.
type Figures struct {
	Requests int64        `json:"requests"`
	Hits     int64        `json:"hits"`
	Misses   int64        `json:"misses"`
	Bypass   int64        `json:"bypass"`
	HitRate  float64      `json:"hitRate"`
	Bytes    int64        `json:"bytes"`
	Status   StatusCounts `json:"status"`
}

func figures(c Counts) Figures {
	f := Figures{Requests: c.Requests, Hits: c.Hits, Misses: c.Misses, Bypass: c.Bypass, Bytes: c.Bytes,
		Status: StatusCounts{S2xx: c.S2xx, S3xx: c.S3xx, S4xx: c.S4xx, S5xx: c.S5xx}}
	if c.Requests > 0 {
		f.HitRate = float64(c.Hits) / float64(c.Requests)
	}
	return f
}

func total(d Day) Counts {
	c := d.API.Counts
	c.plus(d.Website.Counts)
	return c
}

// Window is a tenant's figures over one period: both surfaces, and each.
type Window struct {
	// Start and End are the period's first and last days (End may be
	// ahead of today).
	Start string `json:"start"`
	End   string `json:"end"`
	Figures
	API     Figures `json:"api"`
	Website Figures `json:"website"`
}

func window(s span, d Day) Window {
	return Window{Start: dayName(s.from), End: dayName(s.to), Figures: figures(total(d)), API: figures(d.API.Counts), Website: figures(d.Website.Counts)}
}

// Usage is GET {slug}/usage: the period so far and the one before.
type Usage struct {
	Period   Period `json:"period"`
	Current  Window `json:"current"`
	Previous Window `json:"previous"`
}

// SurfaceAnalytics are a surface's figures and most requested paths.
type SurfaceAnalytics struct {
	Figures
	TopPaths []PathCount `json:"topPaths"`
}

// Analytics is GET {slug}/analytics: the current period.
type Analytics struct {
	Period  Period           `json:"period"`
	Start   string           `json:"start"`
	End     string           `json:"end"`
	Total   Figures          `json:"total"`
	API     SurfaceAnalytics `json:"api"`
	Website SurfaceAnalytics `json:"website"`
}

func surfaceAnalytics(s SurfaceDay) SurfaceAnalytics {
	paths := s.Paths
	if paths == nil {
		paths = []PathCount{}
	}
	return SurfaceAnalytics{Figures: figures(s.Counts), TopPaths: paths}
}

// Point is one day of bandwidth.
type Point struct {
	Date         string `json:"date"`
	Bytes        int64  `json:"bytes"`
	Requests     int64  `json:"requests"`
	APIBytes     int64  `json:"apiBytes"`
	WebsiteBytes int64  `json:"websiteBytes"`
}

// Bandwidth is GET {slug}/bandwidth-daily: one point per day, oldest
// first.
type Bandwidth struct {
	From       string  `json:"from"`
	To         string  `json:"to"`
	TotalBytes int64   `json:"totalBytes"`
	Points     []Point `json:"points"`
}

// TenantUsage is one tenant's line of GET /api/tenants/usage.
type TenantUsage struct {
	Slug string `json:"slug"`
	Figures
}

// Overview is GET /api/tenants/usage: the caller's tenants over the
// current period, and their sum.
type Overview struct {
	Period  Period        `json:"period"`
	Start   string        `json:"start"`
	End     string        `json:"end"`
	Total   Figures       `json:"total"`
	Tenants []TenantUsage `json:"tenants"`
}
