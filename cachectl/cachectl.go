// Package cachectl is the cluster-wide management of the render cache
// behind the Cache API, the webhook refresh and the Script API: listing
// what every node holds, purging (a raft version bump that returns only
// once every live node applied it), refresh and warm-up jobs, and the
// monthly render quota. Results are the same whichever node is asked,
// because reads first catch up with the leader and listings gather every
// live member's L2 index over the internal listener.
package cachectl

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/jobs"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/sitemap"
	"github.com/rendercache/rendercache/usage"
)

// Member is a live node: its name and internal listener address.
type Member struct {
	Name, InternalAddr string
}

// Consensus is the slice of raft the service needs.
type Consensus interface {
	Fresh(ctx context.Context) error
	Applied() uint64
	WaitApplied(ctx context.Context, idx uint64) error
}

// Config wires a Service.
type Config struct {
	Self    string
	Raft    Consensus
	State   record.Reader
	Domains *domain.Service
	Pages   *page.Service
	Jobs    *jobs.Runner
	Usage   *usage.Counter
	Plans   plan.Catalog
	// Members returns the live members, this node included.
	Members func() []Member
	// Client calls other nodes' internal listeners (peer.NewClient).
	Client *http.Client
	// Fetch reads sitemaps under the origin policy.
	Fetch sitemap.Fetch
	// ApplyWait bounds how long a purge waits for each node; default 5s.
	ApplyWait time.Duration
	Logger    *slog.Logger
}

// Service implements the cache management operations. Safe for
// concurrent use.
type Service struct {
	cfg Config

	mu       sync.Mutex
	sitemaps map[string]sitemapEntry // domain + " " + version → URLs
}

type sitemapEntry struct {
	urls    []string
	expires time.Time
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.ApplyWait <= 0 {
		cfg.ApplyWait = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, sitemaps: map[string]sitemapEntry{}}
}

var (
	// ErrOverQuota stops renders of a domain past 120% of its monthly
	// renders; the serve path proxies such misses to the origin instead.
	ErrOverQuota = errkind.New(errkind.Forbidden, "monthly render quota exceeded")
	// ErrTooManyPaths refuses a request naming more than MaxRefreshPaths
	// paths or URLs.
	ErrTooManyPaths = errkind.New(errkind.Invalid, "at most "+strconv.Itoa(MaxRefreshPaths)+" paths per request")
	// ErrBadSitemapURL refuses a warm-up's sitemap URL elsewhere than on
	// the domain or its origin.
	ErrBadSitemapURL = errkind.New(errkind.Invalid, "sitemap must be an http(s) URL on the domain or its origin")
	// ErrBadKey is the Script API's 400 for a key it cannot read.
	ErrBadKey = errkind.New(errkind.Invalid, "invalid cache key: expected render:<domain>:<path>, render:<domain> or render/<domain>/<version>/<variant>/<path>")
)

// QuotaFactor is the share of the monthly renders after which misses
// bypass rendering, in percent.
const QuotaFactor = 120

// Limit returns d's monthly render limit: the domain's own, else its
// account's plan's; plan.Unlimited (-1) means none.
func (s *Service) Limit(d domain.Domain) int64 {
	if d.MonthlyRenderLimit != nil {
		return *d.MonthlyRenderLimit
	}
	a, err := account.Lookup(s.cfg.State, d.AccountID)
	if err != nil {
		return plan.Unlimited
	}
	p, err := s.cfg.Plans.Lookup(a.Plan)
	if err != nil {
		return plan.Unlimited
	}
	return p.MonthlyRenders
}

// Allow is the render tier's quota gate: it refuses a render of d once the
// cluster's renders this month reach QuotaFactor% of the limit.
func (s *Service) Allow(d domain.Domain) error {
	limit := s.Limit(d)
	if limit < 0 {
		return nil
	}
	n, err := s.cfg.Usage.Total(d.Domain)
	if err != nil {
		return nil // a broken counter never takes pages down
	}
	if n*100 >= limit*QuotaFactor {
		return ErrOverQuota
	}
	return nil
}

// Usage is the body of GET /api/domains/:domain/usage.
type Usage struct {
	Domain   string `json:"domain"`
	Month    string `json:"month"`
	Renders  int64  `json:"renders"`
	Limit    int64  `json:"limit"`
	BypassAt int64  `json:"bypassAt"`
	Bypassed bool   `json:"bypassed"`
}

// DomainUsage returns the account's domain's renders this month.
func (s *Service) DomainUsage(ctx context.Context, accountID, host string) (Usage, error) {
	d, err := s.cfg.Domains.Get(ctx, accountID, host)
	if err != nil {
		return Usage{}, err
	}
	n, err := s.cfg.Usage.Total(d.Domain)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Domain: d.Domain, Month: usage.Month(time.Now()), Renders: n, Limit: s.Limit(d), BypassAt: -1}
	if u.Limit >= 0 {
		u.BypassAt = u.Limit * QuotaFactor / 100
		u.Bypassed = n >= u.BypassAt
	}
	return u, nil
}

// fanOut calls fn for every live member in parallel and returns their
// results and errors in member order.
func fanOut[T any](ctx context.Context, s *Service, fn func(ctx context.Context, m Member) (T, error)) ([]T, []error) {
	members := s.cfg.Members()
	out := make([]T, len(members))
	errs := make([]error, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = fn(ctx, m)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", m.Name, errs[i])
			}
		}()
	}
	wg.Wait()
	return out, errs
}
