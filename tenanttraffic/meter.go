package tenanttraffic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/periodic"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/storage"
	"github.com/rendercache/rendercache/tenantproxy"
)

const (
	prefix    = "tenanttraffic/"
	cmdReport = "tenanttraffic.report"
	// RetentionDays is how many days of counters the state keeps: a
	// month and the one before it, and BandwidthMaxDays, fit.
	RetentionDays = 100
	// maxPerReport bounds the tenant-days of one raft command.
	maxPerReport = 128
	// maxLive bounds the tenant-days a node counts in memory; past it,
	// requests of new tenant-days are not counted (Stats.Dropped).
	maxLive = 100_000
	maxSlug = 63
	maxNode = 128
)

var errNone = errors.New("tenanttraffic: none")

// dayOf is t's UTC day: days since 1970-01-01.
func dayOf(t time.Time) int32 { return int32(math.Floor(float64(t.Unix()) / 86400)) }

// dayName is YYYY-MM-DD of day d.
func dayName(d int32) string { return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly) }

// parseDay reads a YYYY-MM-DD day.
func parseDay(s string) (int32, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return 0, false
	}
	return dayOf(t), true
}

func stateKey(day, slug, node string) string { return prefix + day + "/" + slug + "/" + node }

type reportRecord struct {
	Day  string `json:"day"`
	Slug string `json:"slug"`
	Data Day    `json:"data"`
}

type report struct {
	Node string `json:"node"`
	// Today is the reporter's day: records older than RetentionDays
	// before it are deleted.
	Today   string         `json:"today"`
	Records []reportRecord `json:"records"`
}

// Register installs the report command in fsm.
func Register(fsm *consensus.FSM) {
	fsm.Register(cmdReport, func(tx *storage.Tx, cmd consensus.Command) (any, error) {
		var r report
		if err := cmd.Decode(&r); err != nil {
			return nil, err
		}
		today, ok := parseDay(r.Today)
		if !ok || !validName(r.Node, maxNode) || len(r.Records) > maxPerReport {
			return nil, fmt.Errorf("tenanttraffic: bad report")
		}
		for _, rec := range r.Records {
			if _, ok := parseDay(rec.Day); !ok || !validName(rec.Slug, maxSlug) || !rec.Data.valid() {
				return nil, fmt.Errorf("tenanttraffic: bad report record")
			}
		}
		for _, rec := range r.Records {
			key := stateKey(rec.Day, rec.Slug, r.Node)
			// Reports carry running totals: a reordered or repeated
			// report never replaces a later one.
			cur, err := record.Get[Day](tx, key, errNone)
			if err != nil && !errors.Is(err, errNone) {
				return nil, err
			}
			if err == nil && cur.requests() > rec.Data.requests() {
				continue
			}
			if err := record.Put(tx, key, rec.Data); err != nil {
				return nil, err
			}
		}
		return nil, prune(tx, dayName(today-RetentionDays+1))
	})
}

// prune deletes the records of days before cutoff (they sort first).
func prune(tx *storage.Tx, cutoff string) error {
	var old [][]byte
	errStop := errors.New("stop")
	err := tx.Scan([]byte(prefix), func(k, _ []byte) error {
		if string(k[len(prefix):min(len(k), len(prefix)+len(cutoff))]) >= cutoff {
			return errStop
		}
		old = append(old, append([]byte(nil), k...))
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	for _, k := range old {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// validName accepts a slug or node name: 1 to max bytes of letters,
// digits, '-', '_' and '.'.
func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

type liveKey struct {
	slug string
	day  int32
}

// liveDay is what this node counted of one tenant-day.
type liveDay struct {
	mu           sync.Mutex
	api, website liveSurface
	changed      bool
}

type liveSurface struct {
	c     Counts
	paths map[string]int64
}

func (s *liveSurface) add(o tenantproxy.Observation) {
	s.c.add(o.Status, o.Bytes, o.Cache)
	p := clip(o.Path)
	if n, ok := s.paths[p]; ok {
		s.paths[p] = n + 1
		return
	}
	if len(s.paths) < trackPaths {
		s.paths[p] = 1
		return
	}
	// Space-saving: the new path takes the least counted one's place and
	// count, so a path's count is never under its true count.
	least, n := "", int64(math.MaxInt64)
	for q, c := range s.paths {
		if c < n || c == n && q < least {
			least, n = q, c
		}
	}
	delete(s.paths, least)
	s.paths[p] = n + 1
}

func newLiveSurface(from SurfaceDay) liveSurface {
	s := liveSurface{c: from.Counts, paths: make(map[string]int64, len(from.Paths))}
	for _, p := range from.Paths {
		s.paths[p.Path] = p.Requests
	}
	return s
}

// snapshot returns the day as a report carries it.
func (d *liveDay) snapshot() Day {
	return Day{
		API:     SurfaceDay{Counts: d.api.c, Paths: top(d.api.paths, TopPaths)},
		Website: SurfaceDay{Counts: d.website.c, Paths: top(d.website.paths, TopPaths)},
	}
}

// Meter counts this node's tenant traffic per tenant and day and reports
// it through raft. Safe for concurrent use.
type Meter struct {
	node  string
	raft  consensus.Applier
	state record.Reader
	log   *slog.Logger
	now   func() time.Time

	mu      sync.RWMutex
	live    map[liveKey]*liveDay
	dropped atomic.Int64
}

// NewMeter returns node's meter. A tenant-day resumes from the node's
// last report in state, so a restart loses at most the unreported
// requests.
func NewMeter(node string, raft consensus.Applier, state record.Reader, log *slog.Logger) *Meter {
	if log == nil {
		log = slog.Default()
	}
	return &Meter{node: node, raft: raft, state: state, log: log, now: time.Now, live: map[liveKey]*liveDay{}}
}

// Observe counts one request.
func (m *Meter) Observe(o tenantproxy.Observation) {
	d := m.day(liveKey{o.Slug, dayOf(o.Start)})
	if d == nil {
		m.dropped.Add(1)
		return
	}
	d.mu.Lock()
	if o.Surface == SurfaceAPI {
		d.api.add(o)
	} else {
		d.website.add(o)
	}
	d.changed = true
	d.mu.Unlock()
}

// day returns k's live day, made on first use.
func (m *Meter) day(k liveKey) *liveDay {
	m.mu.RLock()
	d := m.live[k]
	m.mu.RUnlock()
	if d != nil {
		return d
	}
	prev, _ := record.Get[Day](m.state, stateKey(dayName(k.day), k.slug, m.node), errNone)
	m.mu.Lock()
	defer m.mu.Unlock()
	if d = m.live[k]; d != nil {
		return d
	}
	if len(m.live) >= maxLive {
		return nil
	}
	d = &liveDay{api: newLiveSurface(prev.API), website: newLiveSurface(prev.Website)}
	m.live[k] = d
	return d
}

// Report proposes this node's running totals of the tenant-days that
// changed, at most maxPerReport per command, and forgets the days before
// yesterday that are reported.
func (m *Meter) Report(ctx context.Context) error {
	today := dayOf(m.now())
	var (
		recs  []reportRecord
		taken = map[string]*liveDay{}
	)
	m.mu.Lock()
	for k, d := range m.live {
		d.mu.Lock()
		if d.changed {
			recs = append(recs, reportRecord{Day: dayName(k.day), Slug: k.slug, Data: d.snapshot()})
			taken[dayName(k.day)+"/"+k.slug] = d
			d.changed = false
		} else if k.day < today-1 {
			delete(m.live, k)
		}
		d.mu.Unlock()
	}
	m.mu.Unlock()
	slices.SortFunc(recs, func(a, b reportRecord) int { return strings.Compare(a.Day+"/"+a.Slug, b.Day+"/"+b.Slug) })
	var errs []error
	for chunk := range slices.Chunk(recs, maxPerReport) {
		r := report{Node: m.node, Today: dayName(today), Records: chunk}
		if _, err := consensus.Propose(ctx, m.raft, "tenant traffic: report", cmdReport, 1, r); err != nil {
			// Counted again next time.
			for _, rec := range chunk {
				d := taken[rec.Day+"/"+rec.Slug]
				d.mu.Lock()
				d.changed = true
				d.mu.Unlock()
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run reports every interval until ctx ends.
func (m *Meter) Run(ctx context.Context, interval time.Duration) {
	periodic.Run(ctx, interval, func(ctx context.Context) {
		rctx, cancel := context.WithTimeout(ctx, interval+5*time.Second)
		defer cancel()
		if err := m.Report(rctx); err != nil {
			m.log.Debug("tenant traffic report failed; retrying next interval", "err", err)
		}
	})
}

// liveSnapshot returns this node's live figures of k, if it counts it.
func (m *Meter) liveSnapshot(k liveKey) (Day, bool) {
	m.mu.RLock()
	d := m.live[k]
	m.mu.RUnlock()
	if d == nil {
		return Day{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snapshot(), true
}

// collect calls fn with each tenant's figures of day, summed over the
// nodes, for the tenants want accepts on that day (only slug's when slug
// is set): other nodes' last reports and this node's live counts.
func (m *Meter) collect(day int32, slug string, want func(string, int32) bool, fn func(slug string, d Day)) error {
	p := prefix + dayName(day) + "/"
	if slug != "" {
		p += slug + "/"
	}
	sums := map[string]*merger{}
	mine := map[string]Day{} // this node's reports
	err := m.state.Scan([]byte(p), func(k, v []byte) error {
		s, node, ok := strings.Cut(string(k[len(prefix)+len("2006-01-02/"):]), "/")
		if !ok || !want(s, day) {
			return nil
		}
		var d Day
		if err := json.Unmarshal(v, &d); err != nil {
			return nil
		}
		if node == m.node {
			mine[s] = d
			return nil
		}
		if sums[s] == nil {
			sums[s] = newMerger()
		}
		sums[s].add(d)
		return nil
	})
	if err != nil {
		return fmt.Errorf("tenanttraffic: read: %w", err)
	}
	m.mu.RLock()
	for k := range m.live {
		if k.day == day && (slug == "" || k.slug == slug) && want(k.slug, day) {
			if _, ok := mine[k.slug]; !ok {
				mine[k.slug] = Day{}
			}
		}
	}
	m.mu.RUnlock()
	for s, d := range mine {
		if live, ok := m.liveSnapshot(liveKey{s, day}); ok {
			d = live
		}
		if sums[s] == nil {
			sums[s] = newMerger()
		}
		sums[s].add(d)
	}
	for s, mg := range sums {
		fn(s, mg.day())
	}
	return nil
}

// daily returns slug's figures for each day of sp, summed over the
// nodes; days want refuses are zero.
func (m *Meter) daily(slug string, want func(string, int32) bool, sp span) ([]Day, error) {
	out := make([]Day, 0, max(0, sp.to-sp.from+1))
	for d := sp.from; d <= sp.to; d++ {
		var day Day
		if err := m.collect(d, slug, want, func(_ string, got Day) { day = got }); err != nil {
			return nil, err
		}
		out = append(out, day)
	}
	return out, nil
}

// sum returns each wanted tenant's figures over sp (only slug's when
// slug is set), summed over days and nodes, top paths included.
func (m *Meter) sum(slug string, want func(string, int32) bool, sp span) (map[string]Day, error) {
	sums := map[string]*merger{}
	for d := sp.from; d <= sp.to; d++ {
		err := m.collect(d, slug, want, func(s string, got Day) {
			if sums[s] == nil {
				sums[s] = newMerger()
			}
			sums[s].add(got)
		})
		if err != nil {
			return nil, err
		}
	}
	out := make(map[string]Day, len(sums))
	for s, mg := range sums {
		out[s] = mg.day()
	}
	return out, nil
}

// Dropped returns how many requests were not counted because the node
// counted maxLive tenant-days already.
func (m *Meter) Dropped() int64 { return m.dropped.Load() }
