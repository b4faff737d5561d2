package page

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/rendercache/rendercache/cache"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/pagestore"
	"github.com/rendercache/rendercache/render"
)

// GroupName is the render group's logical name on the wire.
const GroupName = "render"

// Renderer renders one page; *render.Pool is the real one.
type Renderer interface {
	Render(ctx context.Context, r render.Request) (render.Result, error)
}

// Config wires a Service.
type Config struct {
	// Node is this node's name, recorded on each render it makes.
	Node string
	// Ring picks each key's owner; Client calls the owners.
	Ring   *cache.Ring
	Client *http.Client
	// Bytes bounds the in-memory cache (--cache-bytes).
	Bytes int64
	// Store is the owner's on-disk L2.
	Store *pagestore.Store
	// Renderer renders misses.
	Renderer Renderer
	// Domain reads a registered domain from local replicated state.
	Domain func(host string) (domain.Domain, error)
	// Fresh waits until local state holds every write acknowledged
	// anywhere (consensus.Raft.Fresh). A fill for a domain that local
	// state does not know takes it once before failing: the domain may
	// have been created a moment ago through another node. Nil: local
	// state is all there is.
	Fresh func(ctx context.Context) error
	// Version returns the cache version of a page (domain.Version over the
	// local state): purges change it.
	Version func(d domain.Domain, path string) string
	// Allow is asked before a miss is rendered; an error (ErrOverQuota)
	// stops the render. Nil allows everything.
	Allow func(d domain.Domain) error
	// Rendered is told about every successful render, for usage counts.
	Rendered func(d domain.Domain)
	// RenderTimeout is the default per-render timeout (--render-timeout).
	RenderTimeout time.Duration
	// Recache bounds proactive recache on this node; zero fields take
	// their defaults.
	Recache RecacheConfig
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Stats counts what the service did, for metrics.
type Stats struct {
	Renders, RenderFailures, L2Hits, Revalidations atomic.Int64
	// Recaches counts proactive re-renders started (the guard's
	// rejections are the rendercache_page_quality_rejections_total
	// counter).
	Recaches atomic.Int64
}

// Service answers page requests from the cluster-wide render cache. Safe
// for concurrent use.
type Service struct {
	cfg     Config
	group   *cache.Group
	renders singleflight.Group // one render per page key, whatever the bucket
	stats   Stats

	rerenders  singleflight.Group // one guarded re-render per page key
	guard      guardBook
	rejections *prometheus.CounterVec
	recache    *recacher

	bg     sync.WaitGroup
	ctx    context.Context // cancelled by Close; parents background renders
	cancel context.CancelFunc
}

// New returns the service and creates its cache group.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RenderTimeout <= 0 {
		cfg.RenderTimeout = 20 * time.Second
	}
	if cfg.Version == nil {
		cfg.Version = func(d domain.Domain, _ string) string { return strconv.FormatUint(d.CacheVersion, 10) }
	}
	s := &Service{cfg: cfg, guard: guardBook{pages: map[string]*guardState{}}, rejections: newRejections()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.recache = newRecacher(s, cfg.Recache)
	s.group = cache.New(cache.Config{
		Name:  GroupName,
		Bytes: cfg.Bytes,
		Fill:  s.fill,
		// A render may be retried once after a browser crash, and may
		// queue behind others first.
		FillTimeout: 3*maxRenderTimeout(cfg.RenderTimeout) + 10*time.Second,
		Ring:        cfg.Ring,
		Client:      cfg.Client,
	})
	s.bg.Add(1)
	go func() { defer s.bg.Done(); s.recache.run(s.ctx) }()
	return s
}

func maxRenderTimeout(def time.Duration) time.Duration {
	return max(def, domain.MaxRenderTimeMs*time.Millisecond)
}

// Group returns the cache group, whose peer endpoint the node mounts.
func (s *Service) Group() *cache.Group { return s.group }

// Stats returns the service's counters.
func (s *Service) Stats() *Stats { return &s.stats }

// Close stops background renders and the cache group.
func (s *Service) Close() {
	s.cancel()
	s.group.Close()
	s.bg.Wait()
}

// KeyFor returns the cache key of a page.
func (s *Service) KeyFor(d domain.Domain, variant render.Variant, url string) Key {
	return Key{Domain: d.Domain, Version: s.cfg.Version(d, PathOf(url)), Variant: variant, URL: url}
}

// PathOf returns the path of a normalised URL, without query or fragment:
// single-page purges work on paths.
func PathOf(url string) string {
	p, _, _ := strings.Cut(url, "?")
	p, _, _ = strings.Cut(p, "#")
	return p
}

// TTL returns how long a domain's renders are fresh.
func TTL(d domain.Domain) time.Duration { return time.Duration(d.CacheTTL) * time.Second }

// bucketFor is how long one in-memory cache key lives before the owner is
// asked again (which reads its L2, cheap). groupcache cannot replace a
// value, so this bounds how long a page re-rendered in the background
// takes to reach every node.
func bucketFor(ttl time.Duration) time.Duration {
	return min(max(ttl/4, time.Second), time.Minute)
}

// Get returns the answer for url (from NormalizeURL) of d in variant, and
// whether this call's fill rendered it (edge.Miss) or it was cached
// (edge.Hit). prio orders the render if there is a miss.
func (s *Service) Get(ctx context.Context, d domain.Domain, variant render.Variant, url string, prio render.Priority) (*edge.Answer, edge.Outcome, error) {
	k := s.KeyFor(d, variant, url)
	gkey := AppendGroupKey(nil, k.Domain, k.Version, k.Variant, k.URL, Generation(TTL(d), s.cfg.Now()))
	return s.Fetch(ctx, string(gkey), prio)
}

// Generation returns the cache generation of a page of a domain with
// freshness ttl at now, the last part of its group key (AppendGroupKey):
// a key lives one generation in every node's memory before the owner is
// asked again (see bucketFor).
func Generation(ttl time.Duration, now time.Time) int64 {
	return now.UnixNano() / int64(bucketFor(ttl))
}

// Fetch returns the answer of a group key (AppendGroupKey) from this
// node's cache, the owner's, or a fill on the owner, decoded: its bodies
// alias the value the cache handed over, nothing is compressed or copied
// again. The outcome is edge.Miss when the page was rendered for this
// call.
func (s *Service) Fetch(ctx context.Context, gkey string, prio render.Priority) (*edge.Answer, edge.Outcome, error) {
	start := s.cfg.Now()
	v, err := s.group.Get(cache.WithHint(ctx, hintFor(prio)), gkey)
	if err != nil {
		return nil, 0, err
	}
	m, ans, err := parseValue(v)
	if err != nil {
		return nil, 0, fmt.Errorf("page: %q: %w", gkey, err)
	}
	a, err := edge.Decode(ans)
	if err != nil {
		return nil, 0, fmt.Errorf("page: %q: %w", gkey, err)
	}
	outcome := edge.Hit
	if m.source == FromRender && !m.filledAt.Before(start) {
		outcome = edge.Miss
	}
	return a, outcome, nil
}

func hintFor(p render.Priority) string {
	if p == render.Background {
		return "bg"
	}
	return ""
}

// fill runs on the key's owner after a miss in memory: L2 first, then a
// render.
func (s *Service) fill(ctx context.Context, gkey string) ([]byte, error) {
	gk, _, _ := strings.Cut(gkey, "\x00")
	k, err := ParseKey(gk)
	if err != nil {
		return nil, err
	}
	pageKey := k.StoreKey()
	d, err := s.domain(ctx, k.Domain)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	// A live fill is a crawler asking (or a prerender middleware for
	// one): the page joins the recache index; jobs fill in the background.
	crawled := cache.Hint(ctx) != "bg"
	if raw, _, ok, err := s.cfg.Store.Get(pageKey); err != nil {
		s.cfg.Logger.Warn("page store read failed; rendering", "key", pageKey, "err", err)
	} else if ok {
		if v, renderedAt, err := s.fromL2(raw, k, d, now); err == nil {
			if crawled {
				s.recache.asked(k, d, renderedAt, now)
			}
			return v, nil
		}
	}
	if s.cfg.Allow != nil {
		if err := s.cfg.Allow(d); err != nil {
			return nil, err
		}
	}
	prio := render.Background
	if crawled {
		prio = render.Live
	}
	v, err := s.renderShared(ctx, k, d, prio)
	if err == nil && crawled {
		if m, _, perr := parseValue(v); perr == nil {
			s.recache.asked(k, d, m.renderedAt, now)
		}
	}
	return v, err
}

// domain looks host up in local state and, if it is not there, once more
// after a fresh read: the requesting node saw the domain, so it exists
// unless it was deleted meanwhile.
func (s *Service) domain(ctx context.Context, host string) (domain.Domain, error) {
	d, err := s.cfg.Domain(host)
	if errors.Is(err, domain.ErrNotFound) && s.cfg.Fresh != nil {
		if ferr := s.cfg.Fresh(ctx); ferr != nil {
			return domain.Domain{}, fmt.Errorf("page: fresh lookup of %s: %w", host, ferr)
		}
		d, err = s.cfg.Domain(host)
	}
	return d, err
}

// fromL2 turns an L2 copy into this fill's value: a stale page is served
// and re-rendered in the background, and an answer whose TTL the domain
// has changed since gets the new one (which only re-encodes it).
func (s *Service) fromL2(raw []byte, k Key, d domain.Domain, now time.Time) ([]byte, time.Time, error) {
	m, ans, err := parseValue(raw)
	if err != nil {
		return nil, time.Time{}, err
	}
	a, err := edge.Decode(ans)
	if err != nil {
		return nil, time.Time{}, err
	}
	s.stats.L2Hits.Add(1)
	ttl := TTL(d)
	if !Fresh(m.renderedAt, now, ttl) {
		s.revalidate(k, d)
	}
	renderedAt := m.renderedAt
	m.source, m.filledAt = FromL2, now
	if a.TTL() != ttl {
		return appendValue(nil, m, a.WithTTL(ttl)), renderedAt, nil
	}
	return restamp(m, ans), renderedAt, nil
}

// renderShared renders k once however many fills and revalidations ask at
// the same time (they may use different cache generations of one page)
// and returns the encoded page.
func (s *Service) renderShared(ctx context.Context, k Key, d domain.Domain, prio render.Priority) ([]byte, error) {
	v, err, _ := s.renders.Do(k.StoreKey(), func() (any, error) { return s.render(ctx, k, d, prio) })
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// ErrRenderFailed is the class of every failed render: the crawler gets a
// 503 with Retry-After, which search engines treat as "come back later",
// and nothing is cached.
var ErrRenderFailed = &errkind.Error{Kind: errkind.Unavailable, Message: "render failed", RetryAfter: 10}

// renderFailed says why a render failed: the detailed error comes first
// (errkind.Of finds it, so the crawler's 503 says why), and the result
// still matches ErrRenderFailed under errors.Is.
func renderFailed(why string, err error) error {
	e := *ErrRenderFailed
	e.Message = "render failed: " + why
	return errors.Join(&e, ErrRenderFailed, err)
}

// render renders a page, checks that it is worth keeping, stores it in L2
// and returns it encoded. Only good renders are returned: a timeout, a 5xx
// or an empty page is an error, so it never enters the cache nor replaces
// a good page.
func (s *Service) render(ctx context.Context, k Key, d domain.Domain, prio render.Priority) ([]byte, error) {
	res, err := s.renderRaw(ctx, k, d, prio)
	if errors.Is(err, render.ErrQueueFull) {
		return nil, err // not a render: keep the queue's Retry-After
	}
	if err == nil {
		err = failedResult(res)
	}
	if err != nil {
		s.stats.RenderFailures.Add(1)
		return nil, err
	}
	return s.keep(k, d, res), nil
}

// renderRaw renders k of d at prio. A timeout and a page that could not
// be loaded are renderFailed errors; a full queue is render.ErrQueueFull.
func (s *Service) renderRaw(ctx context.Context, k Key, d domain.Domain, prio render.Priority) (render.Result, error) {
	timeout := s.cfg.RenderTimeout
	if d.Render.TimeoutMs > 0 {
		timeout = time.Duration(d.Render.TimeoutMs) * time.Millisecond
	}
	req := render.Request{
		URL:      d.Origin + k.URL,
		Variant:  k.Variant,
		Priority: prio,
		// Renders are shared fairly between customers' domains, not
		// between origins (several domains may share one).
		Domain:        d.Domain,
		Timeout:       timeout,
		BlockTypes:    d.Render.BlockResources, // nil keeps the renderer's defaults
		AllowTrackers: !d.Render.BlockTrackers,
	}
	s.stats.Renders.Add(1)
	res, err := s.cfg.Renderer.Render(ctx, req)
	switch {
	case errors.Is(err, render.ErrQueueFull):
		return res, err
	case errors.Is(err, render.ErrTimeout):
		return res, renderFailed("timed out", nil)
	case err != nil:
		return res, renderFailed("the page could not be loaded", err)
	}
	return res, nil
}

// failedResult says why a render's result is not worth caching at all: an
// origin 5xx, or a rendered page with an empty body.
func failedResult(res render.Result) error {
	switch {
	case res.Status >= 500:
		return renderFailed(fmt.Sprintf("the origin answered %d", res.Status), nil)
	case res.Rendered && len(bytes.TrimSpace(res.Body)) == 0:
		return renderFailed("the page rendered empty", nil)
	}
	return nil
}

// keep stores a good render of k in L2, counts it, and returns its value.
func (s *Service) keep(k Key, d domain.Domain, res render.Result) []byte {
	if s.cfg.Rendered != nil {
		s.cfg.Rendered(d)
	}
	now := s.cfg.Now()
	// The answer is built here, once: hashed, compressed and encoded;
	// every node decodes it and none compresses it again.
	v := Page{Status: res.Status, Header: res.Header, Body: res.Body, Rendered: res.Rendered, RenderedAt: now, RenderedBy: s.cfg.Node,
		TTL: TTL(d)}.Encode()
	// Keep the page in L2 for one TTL past its freshness, the window in
	// which it is served stale while a re-render runs. (An L2 read sets
	// its own Source and FilledAt.)
	if err := s.cfg.Store.Put(k.StoreKey(), v, now.Add(2*TTL(d))); err != nil {
		s.cfg.Logger.Warn("page store write failed", "key", k.String(), "err", err)
	}
	s.guard.clear(k.StoreKey())
	s.recache.rendered(k, d, now)
	return v
}

// revalidate re-renders a stale page in the background, below live
// traffic, under the quality guard: the stale page stays until a render
// that is not clearly worse replaces it. A page whose last re-render the
// guard rejected waits for its scheduled retry.
func (s *Service) revalidate(k Key, d domain.Domain) {
	// A page whose retry the recache schedule holds is left to it.
	if s.ctx.Err() != nil || s.guard.waiting(k.StoreKey(), s.cfg.Now()) || s.recache.retrying(k.StoreKey()) {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.stats.Revalidations.Add(1)
		ctx, cancel := context.WithTimeout(s.ctx, 3*maxRenderTimeout(s.cfg.RenderTimeout))
		defer cancel()
		if _, err := s.rerender(ctx, k, d, "stale"); err != nil {
			s.cfg.Logger.Info("background re-render failed; the stale page stays", "key", k.String(), "err", err)
		}
	}()
}

// StoredPage is one page in a node's L2: its URL and the versions held.
type StoredPage struct {
	URL      string   `json:"url"`
	Versions []string `json:"versions"`
}

// LocalPages lists domain's pages in this node's L2 in URL order, after
// the URL `after`, at most limit pages; more reports whether others follow.
func (s *Service) LocalPages(domain, after string, limit int) (pages []StoredPage, more bool, err error) {
	start := ""
	if after != "" {
		// Past every version and variant of `after`: they follow it with a
		// space, which sorts below any URL byte.
		start = DomainPrefix(domain) + strings.TrimPrefix(after, "/") + " \xff"
	}
	_, err = s.cfg.Store.Scan(DomainPrefix(domain), start, 0, func(e pagestore.Entry) bool {
		k, err := ParseStoreKey(e.Key)
		if err != nil {
			return true
		}
		if n := len(pages); n > 0 && pages[n-1].URL == k.URL {
			if !slices.Contains(pages[n-1].Versions, k.Version) {
				pages[n-1].Versions = append(pages[n-1].Versions, k.Version)
			}
			return true
		}
		if limit > 0 && len(pages) == limit {
			more = true
			return false
		}
		pages = append(pages, StoredPage{URL: k.URL, Versions: []string{k.Version}})
		return true
	})
	return pages, more, err
}

// LocalPurge deletes domain's pages from this node's L2: all of them, or
// those whose URL path is one of paths. It returns how many entries it
// deleted. The version bump already hid them; this frees the space.
func (s *Service) LocalPurge(domain string, paths []string) (int, error) {
	if len(paths) == 0 {
		return s.cfg.Store.DeletePrefix(DomainPrefix(domain))
	}
	n := 0
	for _, p := range paths {
		var doomed []string
		if _, err := s.cfg.Store.Scan(DomainPrefix(domain)+strings.TrimPrefix(p, "/"), "", 0, func(e pagestore.Entry) bool {
			if k, err := ParseStoreKey(e.Key); err == nil && PathOf(k.URL) == p {
				doomed = append(doomed, e.Key)
			}
			return true
		}); err != nil {
			return n, err
		}
		for _, k := range doomed {
			ok, err := s.cfg.Store.Delete(k)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
	}
	return n, nil
}
