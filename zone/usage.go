package zone

import (
	"time"

	"github.com/rendercache/rendercache/usage"
)

// Counter is the node's per-month counter that reports through raft;
// *usage.Counter is one.
type Counter interface {
	AddN(key string, n int64)
	Total(key string) (int64, error)
}

var _ Counter = (*usage.Counter)(nil)

// Usage is the /v1/usage body: one calendar month (UTC) of an account's
// zones of one mode, summed over every node.
type Usage struct {
	PeriodStart    string  `json:"period_start"`
	PeriodEnd      string  `json:"period_end"`
	Requests       int64   `json:"requests"`
	BandwidthBytes int64   `json:"bandwidth_bytes"`
	CacheHitRate   float64 `json:"cache_hit_rate"`
}

// Meter counts what the zones serve, per account and mode, on the node
// that served it: no raft write per request. Each node reports its
// running totals every usage report interval, so a total read on one node
// lags the other nodes by at most that interval plus a commit. Safe for
// concurrent use.
type Meter struct {
	c   Counter
	now func() time.Time
}

// NewMeter returns a meter over the node's counter.
func NewMeter(c Counter) *Meter { return &Meter{c: c, now: time.Now} }

func meterKey(accountID string, m Mode, what string) string {
	return "zone:" + accountID + ":" + string(m) + ":" + what
}

// Request counts one request of z.
func (mt *Meter) Request(z Zone) { mt.c.AddN(meterKey(z.AccountID, z.Mode, "requests"), 1) }

// Bytes counts n body bytes sent for z.
func (mt *Meter) Bytes(z Zone, n int64) {
	if n > 0 {
		mt.c.AddN(meterKey(z.AccountID, z.Mode, "bytes"), n)
	}
}

// Hit counts one request of z that the cache answered.
func (mt *Meter) Hit(z Zone) { mt.c.AddN(meterKey(z.AccountID, z.Mode, "hits"), 1) }

// Usage returns the account's usage in mode m for the current month.
func (mt *Meter) Usage(accountID string, m Mode) (Usage, error) {
	now := mt.now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 1, -1)
	u := Usage{PeriodStart: start.Format(time.DateOnly), PeriodEnd: end.Format(time.DateOnly)}
	var hits int64
	for _, f := range []struct {
		what string
		dst  *int64
	}{{"requests", &u.Requests}, {"bytes", &u.BandwidthBytes}, {"hits", &hits}} {
		n, err := mt.c.Total(meterKey(accountID, m, f.what))
		if err != nil {
			return Usage{}, err
		}
		*f.dst = n
	}
	if u.Requests > 0 {
		u.CacheHitRate = float64(hits) / float64(u.Requests)
	}
	return u, nil
}
