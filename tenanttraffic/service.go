package tenanttraffic

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/peer"
	"github.com/rendercache/rendercache/internal/periodic"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/storage"
	"github.com/rendercache/rendercache/tenantproxy"
)

// Member is a live node: its name and internal listener address.
type Member struct {
	Name, InternalAddr string
}

// Config wires a Service.
type Config struct {
	// Node is this node's name.
	Node string
	// Raft carries the counters' reports; State is the replicated state
	// they are read from.
	Raft  consensus.Applier
	State record.Reader
	// Local keeps this node's request log.
	Local *storage.Local
	// Members returns the live members, this node included.
	Members func() []Member
	// Client calls other nodes' internal listeners (peer.NewClient).
	Client *http.Client
	// ReportInterval is how often counters are reported; the figures of
	// other nodes lag by about this much.
	ReportInterval time.Duration
	// Logs bounds the request log.
	Logs   LogOptions
	Logger *slog.Logger
	// Now is the clock of periods; default time.Now.
	Now func() time.Time
}

// Service accounts for tenant traffic on one node and answers the
// cluster-wide reads. It is the tenant surface's tenantproxy.Observer.
// Safe for concurrent use.
type Service struct {
	cfg   Config
	meter *Meter
	logs  *LogStore
}

var _ tenantproxy.Observer = (*Service)(nil)

// New opens the node's request log and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logs.Logger == nil {
		cfg.Logs.Logger = cfg.Logger
	}
	logs, err := OpenLogs(cfg.Local, cfg.Logs)
	if err != nil {
		return nil, err
	}
	m := NewMeter(cfg.Node, cfg.Raft, cfg.State, cfg.Logger)
	m.now = cfg.Now
	return &Service{cfg: cfg, meter: m, logs: logs}, nil
}

// Observe counts and logs one request: a few map lookups and an append
// under short locks, no storage and no raft.
func (s *Service) Observe(o tenantproxy.Observation) {
	s.meter.Observe(o)
	s.logs.Observe(o)
}

// Run reports the counters every ReportInterval, writes the log every
// FlushInterval and prunes it every PruneInterval, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.meter.Run(ctx, s.cfg.ReportInterval) }()
	go func() { defer wg.Done(); s.logs.Run(ctx) }()
	go func() {
		defer wg.Done()
		periodic.Run(ctx, PruneInterval, func(context.Context) {
			if err := s.logs.Prune(); err != nil {
				s.cfg.Logger.Warn("tenant log prune failed", "err", err)
			}
		})
	}()
	wg.Wait()
}

// Stop reports the counters once more and writes the buffered log, for
// a node stopping while it is still in raft.
func (s *Service) Stop(ctx context.Context) error {
	err := s.logs.Flush()
	if rerr := s.meter.Report(ctx); rerr != nil {
		return rerr
	}
	return err
}

// Stats are the service's counters, for metrics.
type Stats struct {
	LogStats
	// Uncounted is requests not counted: the node counted too many
	// tenant-days at once.
	Uncounted int64
}

// Stats returns the service's counters.
func (s *Service) Stats() Stats {
	return Stats{LogStats: s.logs.Stats(), Uncounted: s.meter.Dropped()}
}

// Scope is a tenant whose traffic is read. Traffic before Since (the
// tenant's creation) belongs to a deleted tenant of the same slug and is
// left out: days before Since's day, entries before Since.
type Scope struct {
	Slug  string
	Since time.Time
}

func wantScopes(scopes ...Scope) func(string, int32) bool {
	since := make(map[string]int32, len(scopes))
	for _, sc := range scopes {
		since[sc.Slug] = dayOf(sc.Since)
	}
	return func(slug string, day int32) bool {
		d, ok := since[slug]
		return ok && day >= d
	}
}

// Usage returns the tenant's figures over the period so far and the
// whole period before.
func (s *Service) Usage(sc Scope, p Period) (Usage, error) {
	cur, prev := p.bounds(s.cfg.Now())
	u := Usage{Period: p}
	for _, w := range []struct {
		sp  span
		dst *Window
	}{{cur, &u.Current}, {prev, &u.Previous}} {
		sums, err := s.meter.sum(sc.Slug, wantScopes(sc), w.sp)
		if err != nil {
			return Usage{}, err
		}
		*w.dst = window(w.sp, sums[sc.Slug])
	}
	return u, nil
}

// Analytics returns the tenant's figures and top paths per surface over
// the period so far.
func (s *Service) Analytics(sc Scope, p Period) (Analytics, error) {
	cur, _ := p.bounds(s.cfg.Now())
	sums, err := s.meter.sum(sc.Slug, wantScopes(sc), cur)
	if err != nil {
		return Analytics{}, err
	}
	d := sums[sc.Slug]
	return Analytics{
		Period: p, Start: dayName(cur.from), End: dayName(cur.to),
		Total: figures(total(d)), API: surfaceAnalytics(d.API), Website: surfaceAnalytics(d.Website),
	}, nil
}

// Bandwidth returns the tenant's bytes and requests per day of r.
func (s *Service) Bandwidth(sc Scope, r Range) (Bandwidth, error) {
	days, err := s.meter.daily(sc.Slug, wantScopes(sc), r.span)
	if err != nil {
		return Bandwidth{}, err
	}
	b := Bandwidth{From: dayName(r.from), To: dayName(r.to), Points: make([]Point, 0, len(days))}
	for i, d := range days {
		t := total(d)
		b.Points = append(b.Points, Point{Date: dayName(r.from + int32(i)), Bytes: t.Bytes, Requests: t.Requests, APIBytes: d.API.Bytes, WebsiteBytes: d.Website.Bytes})
		b.TotalBytes += t.Bytes
	}
	return b, nil
}

// Overview returns each tenant's figures over the period so far, in slug
// order, and their sum.
func (s *Service) Overview(scopes []Scope, p Period) (Overview, error) {
	cur, _ := p.bounds(s.cfg.Now())
	o := Overview{Period: p, Start: dayName(cur.from), End: dayName(cur.to), Tenants: make([]TenantUsage, 0, len(scopes))}
	if len(scopes) == 0 {
		return o, nil
	}
	sums, err := s.meter.sum("", wantScopes(scopes...), cur)
	if err != nil {
		return Overview{}, err
	}
	var all Counts
	for _, sc := range scopes {
		t := total(sums[sc.Slug])
		all.plus(t)
		o.Tenants = append(o.Tenants, TenantUsage{Slug: sc.Slug, Figures: figures(t)})
	}
	sort.Slice(o.Tenants, func(i, j int) bool { return o.Tenants[i].Slug < o.Tenants[j].Slug })
	o.Total = figures(all)
	return o, nil
}

// Internal endpoint of the log gathering.
const (
	// PathPrefix is where Handler is mounted on the internal listener.
	PathPrefix = "/internal/v1/tenanttraffic/"
	pathLogs   = PathPrefix + "logs"
)

type logsRequest struct {
	Slug   string    `json:"slug"`
	Since  int64     `json:"since"`
	Before *position `json:"before,omitempty"`
	Filter filter    `json:"filter"`
	Limit  int       `json:"limit"`
}

var errBadLogsRequest = errkind.New(errkind.Invalid, "tenanttraffic: bad logs request")

type logsAnswer struct {
	Entries []localEntry `json:"entries"`
	More    bool         `json:"more"`
}

// Handler serves other nodes' log reads. Mount it at PathPrefix behind
// peer.Require.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+pathLogs, peer.Handle(func(_ context.Context, q logsRequest) (logsAnswer, error) {
		return s.localLogs(q)
	}))
	return mux
}

func (s *Service) localLogs(q logsRequest) (logsAnswer, error) {
	if !validName(q.Slug, maxSlug) || q.Limit < 1 || q.Limit > MaxLogLimit {
		return logsAnswer{}, errBadLogsRequest
	}
	es, more, err := s.logs.query(s.cfg.Node, q.Slug, q.Since, q.Before, q.Filter, q.Limit)
	return logsAnswer{Entries: es, More: more}, err
}

// Logs returns a page of the tenant's request log, newest first,
// gathered from every live member and merged by time. A member that does
// not answer is named in Missing and its entries are absent.
func (s *Service) Logs(ctx context.Context, sc Scope, q LogQuery) (LogPage, error) {
	req := logsRequest{Slug: sc.Slug, Since: max(sc.Since.UnixNano(), 0), Before: q.before, Filter: q.filter, Limit: q.Limit}
	members := s.cfg.Members()
	answers := make([]logsAnswer, len(members))
	errs := make([]error, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() {
			if m.Name == s.cfg.Node {
				answers[i], errs[i] = s.localLogs(req)
				return
			}
			errs[i] = peer.Call(ctx, s.cfg.Client, m.InternalAddr, pathLogs, req, &answers[i])
		})
	}
	wg.Wait()
	page := LogPage{Limit: q.Limit, Entries: []Entry{}, Missing: []string{}}
	var all []Entry
	var pos []position
	for i, a := range answers {
		if errs[i] != nil {
			if m := members[i]; m.Name == s.cfg.Node {
				return LogPage{}, errs[i]
			}
			s.cfg.Logger.Warn("a member's tenant log is missing", "member", members[i].Name, "err", errs[i])
			page.Missing = append(page.Missing, members[i].Name)
			continue
		}
		page.Nodes++
		page.HasMore = page.HasMore || a.More
		for _, e := range a.Entries {
			p := position{NS: e.NS, Node: members[i].Name, Seq: e.Seq}
			pos = append(pos, p)
			all = append(all, entry(p, e))
		}
	}
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return comparePos(pos[b], pos[a]) })
	if len(order) > q.Limit {
		order, page.HasMore = order[:q.Limit], true
	}
	for _, i := range order {
		page.Entries = append(page.Entries, all[i])
	}
	if page.HasMore && len(order) > 0 {
		c := pos[order[len(order)-1]].cursor()
		page.NextCursor = &c
	}
	return page, nil
}

func entry(p position, e localEntry) Entry {
	return Entry{
		ID: p.cursor(), Time: time.Unix(0, e.NS).UTC(), Node: p.Node, Surface: e.Surface, Method: e.Method,
		Path: e.Path, Status: e.Status, Bytes: e.Bytes, Cache: e.Cache, DurationMs: float64(e.Micros) / 1000,
	}
}
