// Package usage counts renders per domain per calendar month (UTC) and
// sums them across the cluster, for the plans' monthly render quotas.
//
// A render must not cost a raft write, so each node counts its own renders
// in memory and reports its running totals for the month through raft
// every ReportInterval. The replicated state keeps each node's latest
// report (usage/<month>/<domain>/<node>); the cluster total is their sum
// plus what this node has counted since its last report. A total read on
// one node therefore misses at most the other nodes' last ReportInterval
// of renders (plus the time raft takes to commit the report).
package usage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/periodic"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/storage"
)

const (
	prefix    = "usage/"
	cmdReport = "usage.report"
)

// Month returns the quota period of t: "2026-11".
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

type report struct {
	Node   string           `json:"node"`
	Month  string           `json:"month"`
	Counts map[string]int64 `json:"counts"` // domain → renders this month by Node
}

// Register installs the usage command in fsm.
func Register(fsm *consensus.FSM) {
	fsm.Register(cmdReport, func(tx *storage.Tx, cmd consensus.Command) (any, error) {
		var r report
		if err := cmd.Decode(&r); err != nil {
			return nil, err
		}
		if r.Node == "" || strings.Contains(r.Node, "/") || len(r.Month) != 7 {
			return nil, fmt.Errorf("usage: bad report")
		}
		for d, n := range r.Counts {
			key := prefix + r.Month + "/" + d + "/" + r.Node
			// Reports carry running totals; keep the largest so a
			// reordered or repeated report never lowers a count.
			cur, err := record.Get[int64](tx, key, errNone)
			if err != nil && err != errNone {
				return nil, err
			}
			if n > cur {
				if err := record.Put(tx, key, n); err != nil {
					return nil, err
				}
			}
		}
		return nil, nil
	})
}

var errNone = fmt.Errorf("usage: none")

// Counter counts this node's renders and reports them. Safe for concurrent
// use.
type Counter struct {
	node  string
	raft  consensus.Applier
	state record.Reader
	now   func() time.Time
	log   *slog.Logger

	// sources are counts kept outside the counter (per-request tallies
	// in atomics), drained into it before every report and total.
	sourcesMu sync.Mutex
	sources   []func(add func(key string, n int64))

	mu      sync.Mutex
	month   string
	counts  map[string]int64 // this month's renders by this node, by domain
	changed map[string]bool  // domains counted since the last report
}

// NewCounter returns the node's counter. It resumes from the node's last
// report in state, so a restart loses at most the unreported renders.
func NewCounter(node string, raft consensus.Applier, state record.Reader, log *slog.Logger) *Counter {
	if log == nil {
		log = slog.Default()
	}
	return &Counter{node: node, raft: raft, state: state, now: time.Now, log: log, counts: map[string]int64{}, changed: map[string]bool{}}
}

// Add counts one render of domain.
func (c *Counter) Add(domain string) { c.AddN(domain, 1) }

// AddN adds n to the counter named key (a domain's renders, or another
// per-request figure such as a zone's bytes served, under a key that
// cannot be a domain name: "zone:<account>:<mode>:bytes").
func (c *Counter) AddN(key string, n int64) {
	domain := key
	m := Month(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rollLocked(m)
	if _, ok := c.counts[domain]; !ok {
		// Resume from this node's last report of the month.
		c.counts[domain], _ = record.Get[int64](c.state, prefix+m+"/"+domain+"/"+c.node, errNone)
	}
	c.counts[domain] += n
	c.changed[domain] = true
}

func (c *Counter) rollLocked(m string) {
	if c.month != m {
		c.month, c.counts, c.changed = m, map[string]int64{}, map[string]bool{}
	}
}

// AddSource registers drain, which moves the counts that a hot path kept
// outside the counter into it by calling add (AddN) for each. A hot path
// that counts every request cannot afford AddN each time (a clock read,
// a month's name, a key and a map write under one lock); it counts in
// atomics and the counter drains them before each report and each total,
// so a total read here is exact for this node. A count drained just after
// the month turned goes to the new month: at most one report interval's.
func (c *Counter) AddSource(drain func(add func(key string, n int64))) {
	c.sourcesMu.Lock()
	c.sources = append(c.sources, drain)
	c.sourcesMu.Unlock()
}

// drain moves every source's counts into the counter.
func (c *Counter) drain() {
	c.sourcesMu.Lock()
	defer c.sourcesMu.Unlock()
	for _, d := range c.sources {
		d(c.AddN)
	}
}

// Total returns domain's renders this month across the cluster, as known
// here.
func (c *Counter) Total(domain string) (int64, error) {
	c.drain()
	m := Month(c.now())
	var total int64
	mine := int64(0)
	err := c.state.Scan([]byte(prefix+m+"/"+domain+"/"), func(k, v []byte) error {
		var n int64
		if err := json.Unmarshal(v, &n); err != nil {
			return nil
		}
		if strings.HasSuffix(string(k), "/"+c.node) {
			mine = n
			return nil
		}
		total += n
		return nil
	})
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if c.month == m {
		mine = max(mine, c.counts[domain])
	}
	c.mu.Unlock()
	return total + mine, nil
}

// Report proposes this node's running totals if they changed.
func (c *Counter) Report(ctx context.Context) error {
	c.drain()
	c.mu.Lock()
	if len(c.changed) == 0 {
		c.mu.Unlock()
		return nil
	}
	// Only the domains counted since the last report: each costs a read
	// and a write in every node's Apply.
	r := report{Node: c.node, Month: c.month, Counts: map[string]int64{}}
	for d := range c.changed {
		r.Counts[d] = c.counts[d]
	}
	c.changed = map[string]bool{}
	c.mu.Unlock()
	if _, err := consensus.Propose(ctx, c.raft, "usage: report", cmdReport, 1, r); err != nil {
		c.mu.Lock()
		if c.month == r.Month {
			for d := range r.Counts {
				c.changed[d] = true
			}
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

// Run reports every interval until ctx ends. A node stopping gracefully
// calls Report once more while it is still in raft.
func (c *Counter) Run(ctx context.Context, interval time.Duration) {
	periodic.Run(ctx, interval, func(ctx context.Context) {
		rctx, cancel := context.WithTimeout(ctx, interval+5*time.Second)
		defer cancel()
		if err := c.Report(rctx); err != nil {
			c.log.Debug("usage report failed; retrying next interval", "err", err)
		}
	})
}
