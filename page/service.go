package page

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/rendercache/rendercache/cache"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/errkind"
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
	// RenderTimeout is the default per-render timeout (--render-timeout).
	RenderTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Stats counts what the service did, for metrics.
type Stats struct {
	Renders, RenderFailures, L2Hits, Revalidations atomic.Int64
}

// Service answers page requests from the cluster-wide render cache. Safe
// for concurrent use.
type Service struct {
	cfg     Config
	group   *cache.Group
	renders singleflight.Group // one render per page key, whatever the bucket
	stats   Stats

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
	s := &Service{cfg: cfg}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.group = cache.New(cache.Config{
		Name:  GroupName,
		Bytes: cfg.Bytes,
		Fill:  s.fill,
		// A render may be retried once after a browser crash, and may
		// queue behind others first.
		FillTimeout: 3*maxRenderTimeout(cfg.RenderTimeout) + 10*time.Second,
		Ring:        cfg.Ring,
		Client:      cfg.Client,
		Logger:      cfg.Logger,
	})
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

// Version returns the cache version of a domain's page: it changes
// whenever the domain is purged, so a purge is one raft write whatever the
// cache holds.
func Version(d domain.Domain) string { return strconv.FormatUint(d.CacheVersion, 10) }

// TTL returns how long a domain's renders are fresh.
func TTL(d domain.Domain) time.Duration { return time.Duration(d.CacheTTL) * time.Second }

// bucketFor is how long one in-memory cache key lives before the owner is
// asked again (which reads its L2, cheap). groupcache cannot replace a
// value, so this bounds how long a page re-rendered in the background
// takes to reach every node.
func bucketFor(ttl time.Duration) time.Duration {
	return min(max(ttl/4, time.Second), time.Minute)
}

// Status is the Cache-Status (RFC 9211) of an answer.
type Status string

// Get returns the page for url (from NormalizeURL) of d in variant, and
// its Cache-Status. prio orders the render if there is a miss.
func (s *Service) Get(ctx context.Context, d domain.Domain, variant render.Variant, url string, prio render.Priority) (Page, Status, error) {
	k := Key{Domain: d.Domain, Version: Version(d), Variant: variant, URL: url}
	ttl := TTL(d)
	start := s.cfg.Now()
	bucket := start.UnixNano() / int64(bucketFor(ttl))
	gkey := k.String() + "\x00" + strconv.FormatInt(bucket, 10)
	v, err := s.group.Get(cache.WithHint(ctx, hintFor(prio)), gkey)
	if err != nil {
		return Page{}, "", err
	}
	p, err := Decode(v)
	if err != nil {
		return Page{}, "", fmt.Errorf("page: %s: %w", k, err)
	}
	return p, s.status(p, start, ttl), nil
}

func (s *Service) status(p Page, start time.Time, ttl time.Duration) Status {
	if p.Source == FromRender && !p.FilledAt.Before(start) {
		return "rendercache; fwd=miss; stored"
	}
	left := p.RenderedAt.Add(ttl).Sub(s.cfg.Now())
	return Status("rendercache; hit; ttl=" + strconv.FormatInt(int64(left/time.Second), 10))
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
	pageKey, _, _ := strings.Cut(gkey, "\x00")
	k, err := ParseKey(pageKey)
	if err != nil {
		return nil, err
	}
	d, err := s.cfg.Domain(k.Domain)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	if raw, _, ok, err := s.cfg.Store.Get(pageKey); err != nil {
		s.cfg.Logger.Warn("page store read failed; rendering", "key", pageKey, "err", err)
	} else if ok {
		if p, err := Decode(raw); err == nil {
			s.stats.L2Hits.Add(1)
			if !p.Fresh(now, TTL(d)) {
				s.revalidate(k, d)
			}
			p.Source, p.FilledAt = FromL2, now
			return p.Encode(), nil
		}
	}
	prio := render.Live
	if cache.Hint(ctx) == "bg" {
		prio = render.Background
	}
	v, err, _ := s.renders.Do(pageKey, func() (any, error) {
		p, err := s.render(ctx, k, d, prio)
		if err != nil {
			return nil, err
		}
		return p.Encode(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// ErrRenderFailed is the class of every failed render: the crawler gets a
// 503 with Retry-After, which search engines treat as "come back later",
// and nothing is cached.
var ErrRenderFailed = &errkind.Error{Kind: errkind.Unavailable, Message: "render failed", RetryAfter: 10}

func renderFailed(why string, err error) error {
	e := *ErrRenderFailed
	e.Message = "render failed: " + why
	if err != nil {
		return fmt.Errorf("%w: %w", &e, err)
	}
	return &e
}

// render renders a page, checks that it is worth keeping, and stores it in
// L2. Only good renders are returned: a timeout, a 5xx or an empty page is
// an error, so it never enters the cache nor replaces a good page.
func (s *Service) render(ctx context.Context, k Key, d domain.Domain, prio render.Priority) (Page, error) {
	timeout := s.cfg.RenderTimeout
	if d.Render.TimeoutMs > 0 {
		timeout = time.Duration(d.Render.TimeoutMs) * time.Millisecond
	}
	req := render.Request{
		URL:            d.Origin + k.URL,
		Variant:        k.Variant,
		Priority:       prio,
		Timeout:        timeout,
		AllowResources: len(d.Render.BlockResources) == 0,
	}
	s.stats.Renders.Add(1)
	res, err := s.cfg.Renderer.Render(ctx, req)
	switch {
	case errors.Is(err, render.ErrTimeout):
		s.stats.RenderFailures.Add(1)
		return Page{}, renderFailed("timed out", nil)
	case err != nil:
		s.stats.RenderFailures.Add(1)
		if e := errkind.Of(err); e != nil && e.Kind == errkind.Unavailable {
			return Page{}, err // queue full: keep its Retry-After
		}
		return Page{}, renderFailed("the page could not be loaded", err)
	case res.Status >= 500:
		s.stats.RenderFailures.Add(1)
		return Page{}, renderFailed(fmt.Sprintf("the origin answered %d", res.Status), nil)
	case res.Rendered && len(strings.TrimSpace(string(res.Body))) == 0:
		s.stats.RenderFailures.Add(1)
		return Page{}, renderFailed("the page rendered empty", nil)
	}
	now := s.cfg.Now()
	p := Page{Status: res.Status, Header: res.Header, Body: res.Body, Rendered: res.Rendered, RenderedAt: now, RenderedBy: s.cfg.Node}
	// Keep the page in L2 for one TTL past its freshness, the window in
	// which it is served stale while a re-render runs.
	if err := s.cfg.Store.Put(k.String(), p.Encode(), now.Add(2*TTL(d))); err != nil {
		s.cfg.Logger.Warn("page store write failed", "key", k.String(), "err", err)
	}
	p.Source, p.FilledAt = FromRender, now
	return p, nil
}

// revalidate re-renders a stale page in the background, below live
// traffic. The stale page stays until a good render replaces it.
func (s *Service) revalidate(k Key, d domain.Domain) {
	if s.ctx.Err() != nil {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.stats.Revalidations.Add(1)
		ctx, cancel := context.WithTimeout(s.ctx, 3*maxRenderTimeout(s.cfg.RenderTimeout))
		defer cancel()
		_, err, _ := s.renders.Do(k.String(), func() (any, error) {
			p, err := s.render(ctx, k, d, render.Background)
			if err != nil {
				return nil, err
			}
			return p.Encode(), nil
		})
		if err != nil {
			s.cfg.Logger.Info("background re-render failed; the stale page stays", "key", k.String(), "err", err)
		}
	}()
}
