package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// TrafficStatus counts answers by status class.
type TrafficStatus struct {
	S2xx int64 `json:"2xx"`
	S3xx int64 `json:"3xx"`
	S4xx int64 `json:"4xx"`
	S5xx int64 `json:"5xx"`
}

// TrafficFigures are what tenant hosts answered: requests, those the
// cache answered (hits), filled (misses) or passed through (bypass),
// hits over requests, body bytes sent and status classes.
type TrafficFigures struct {
	Requests int64         `json:"requests"`
	Hits     int64         `json:"hits"`
	Misses   int64         `json:"misses"`
	Bypass   int64         `json:"bypass"`
	HitRate  float64       `json:"hitRate"`
	Bytes    int64         `json:"bytes"`
	Status   TrafficStatus `json:"status"`
}

// TrafficWindow is a tenant's traffic over one period: both surfaces
// together, and the CMS API proxy's and the website's apart.
type TrafficWindow struct {
	Start string `json:"start"`
	End   string `json:"end"`
	TrafficFigures
	API     TrafficFigures `json:"api"`
	Website TrafficFigures `json:"website"`
}

// TenantUsage is GET /api/tenants/{slug}/usage.
type TenantUsage struct {
	Period   string        `json:"period"`
	Current  TrafficWindow `json:"current"`
	Previous TrafficWindow `json:"previous"`
}

// TrafficPath is a path and its requests.
type TrafficPath struct {
	Path     string `json:"path"`
	Requests int64  `json:"requests"`
}

// TrafficSurface is one surface's figures and most requested paths.
type TrafficSurface struct {
	TrafficFigures
	TopPaths []TrafficPath `json:"topPaths"`
}

// TenantAnalytics is GET /api/tenants/{slug}/analytics.
type TenantAnalytics struct {
	Period  string         `json:"period"`
	Start   string         `json:"start"`
	End     string         `json:"end"`
	Total   TrafficFigures `json:"total"`
	API     TrafficSurface `json:"api"`
	Website TrafficSurface `json:"website"`
}

// BandwidthPoint is one UTC day of a tenant's traffic.
type BandwidthPoint struct {
	Date         string `json:"date"`
	Bytes        int64  `json:"bytes"`
	Requests     int64  `json:"requests"`
	APIBytes     int64  `json:"apiBytes"`
	WebsiteBytes int64  `json:"websiteBytes"`
}

// TenantBandwidth is GET /api/tenants/{slug}/bandwidth-daily.
type TenantBandwidth struct {
	From       string           `json:"from"`
	To         string           `json:"to"`
	TotalBytes int64            `json:"totalBytes"`
	Points     []BandwidthPoint `json:"points"`
}

// TenantTrafficLine is one tenant in GET /api/tenants/usage.
type TenantTrafficLine struct {
	Slug string `json:"slug"`
	TrafficFigures
}

// TenantsUsage is GET /api/tenants/usage.
type TenantsUsage struct {
	Period  string              `json:"period"`
	Start   string              `json:"start"`
	End     string              `json:"end"`
	Total   TrafficFigures      `json:"total"`
	Tenants []TenantTrafficLine `json:"tenants"`
}

// TenantLogEntry is one request a tenant host answered. Path never
// carries the query string.
type TenantLogEntry struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Node       string    `json:"node"`
	Surface    string    `json:"surface"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Status     int       `json:"status"`
	Bytes      int64     `json:"bytes"`
	Cache      string    `json:"cache"`
	DurationMs float64   `json:"durationMs"`
}

// TenantLogPage is a page of a tenant's request log, newest first.
type TenantLogPage struct {
	Entries    []TenantLogEntry `json:"entries"`
	Limit      int              `json:"limit"`
	HasMore    bool             `json:"hasMore"`
	NextCursor *string          `json:"nextCursor"`
	Nodes      int              `json:"nodes"`
	Missing    []string         `json:"missing"`
}

// TenantLogQuery selects log entries; zero values are the defaults.
type TenantLogQuery struct {
	Limit   int    // 1..200; 0: 50
	Cursor  string // a previous page's NextCursor
	Status  string // a class (2xx) or a code (404)
	Surface string // api or website
}

// withPeriod appends ?period= when period is set.
func withPeriod(p, period string) string {
	if period == "" {
		return p
	}
	return p + "?" + url.Values{"period": {period}}.Encode()
}

// TenantsUsage returns the traffic of every tenant the caller can see
// over the current period (day, week or month; "": month).
func (c *Client) TenantsUsage(ctx context.Context, period string) (TenantsUsage, error) {
	var out TenantsUsage
	return out, c.call(ctx, request{method: http.MethodGet, path: withPeriod("/api/tenants/usage", period), auth: c.session()}, &out)
}

// TenantUsage returns a tenant's traffic this period and the one before.
func (c *Client) TenantUsage(ctx context.Context, slug, period string) (TenantUsage, error) {
	var out TenantUsage
	return out, c.call(ctx, request{method: http.MethodGet, path: withPeriod(tenantPath(slug)+"/usage", period), auth: c.session()}, &out)
}

// TenantAnalytics returns a tenant's figures and top paths per surface
// over the current period.
func (c *Client) TenantAnalytics(ctx context.Context, slug, period string) (TenantAnalytics, error) {
	var out TenantAnalytics
	return out, c.call(ctx, request{method: http.MethodGet, path: withPeriod(tenantPath(slug)+"/analytics", period), auth: c.session()}, &out)
}

// TenantBandwidth returns a tenant's bytes per UTC day from from to to
// (YYYY-MM-DD; "" takes the server's default: the last 30 days).
func (c *Client) TenantBandwidth(ctx context.Context, slug, from, to string) (TenantBandwidth, error) {
	q := url.Values{}
	if from != "" {
		q.Set("from", from)
	}
	if to != "" {
		q.Set("to", to)
	}
	p := tenantPath(slug) + "/bandwidth-daily"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	var out TenantBandwidth
	return out, c.call(ctx, request{method: http.MethodGet, path: p, auth: c.session()}, &out)
}

// TenantLogs returns a page of a tenant's request log, gathered from every
// live node, newest first.
func (c *Client) TenantLogs(ctx context.Context, slug string, q TenantLogQuery) (TenantLogPage, error) {
	v := url.Values{}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	for k, s := range map[string]string{"cursor": q.Cursor, "status": q.Status, "surface": q.Surface} {
		if s != "" {
			v.Set(k, s)
		}
	}
	p := tenantPath(slug) + "/logs"
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	var out TenantLogPage
	return out, c.call(ctx, request{method: http.MethodGet, path: p, auth: c.session()}, &out)
}
