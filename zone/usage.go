package zone

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rendercache/rendercache/usage"
)

// Counter is the node's per-month counter that reports through raft;
// *usage.Counter is one.
type Counter interface {
	AddN(key string, n int64)
	Total(key string) (int64, error)
	AddSource(drain func(add func(key string, n int64)))
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
// that served it: no raft write per request. A request costs three
// atomic adds on the account's tally (a hit must not pay for a clock
// read, a month's name and a locked map write each time: profiled, that
// was a third of an asset hit); the node's counter drains the tallies
// before each report and each total. Each node reports its running
// totals every usage report interval, so a total read on one node lags
// the other nodes by at most that interval plus a commit. Safe for
// concurrent use.
type Meter struct {
	c   Counter
	now func() time.Time

	mu      sync.RWMutex
	tallies map[tallyKey]*tally
}

// tallyKey names what usage is summed over: an account's zones of one
// mode.
type tallyKey struct {
	account string
	mode    Mode
}

// tally is one account and mode's counts since the last drain.
type tally struct{ requests, hits, bytes atomic.Int64 }

// NewMeter returns a meter over the node's counter.
func NewMeter(c Counter) *Meter {
	mt := &Meter{c: c, now: time.Now, tallies: map[tallyKey]*tally{}}
	c.AddSource(mt.drain)
	return mt
}

func meterKey(accountID string, m Mode, what string) string {
	return "zone:" + accountID + ":" + string(m) + ":" + what
}

// tally returns z's account and mode's tally, made on first use.
func (mt *Meter) tally(z Zone) *tally {
	k := tallyKey{z.AccountID, z.Mode}
	mt.mu.RLock()
	t := mt.tallies[k]
	mt.mu.RUnlock()
	if t != nil {
		return t
	}
	mt.mu.Lock()
	defer mt.mu.Unlock()
	if t = mt.tallies[k]; t == nil {
		t = &tally{}
		mt.tallies[k] = t
	}
	return t
}

// drain moves the tallies into the counter (a usage.Counter source).
func (mt *Meter) drain(add func(key string, n int64)) {
	mt.mu.RLock()
	defer mt.mu.RUnlock()
	for k, t := range mt.tallies {
		for _, f := range []struct {
			what string
			n    *atomic.Int64
		}{{"requests", &t.requests}, {"hits", &t.hits}, {"bytes", &t.bytes}} {
			if n := f.n.Swap(0); n != 0 {
				add(meterKey(k.account, k.mode, f.what), n)
			}
		}
	}
}

// Request counts one request of z.
func (mt *Meter) Request(z Zone) { mt.tally(z).requests.Add(1) }

// Bytes counts n body bytes sent for z.
func (mt *Meter) Bytes(z Zone, n int64) {
	if n > 0 {
		mt.tally(z).bytes.Add(n)
	}
}

// Hit counts one request of z that the cache answered.
func (mt *Meter) Hit(z Zone) { mt.tally(z).hits.Add(1) }

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
