package page_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/cache"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/pagestore"
	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/storage"
)

// browser is this package's one Chromium; tests fail without it.
var browser *render.Pool

func TestMain(m *testing.M) {
	p, err := render.New(context.Background(), render.Options{Concurrency: 2, Policy: origin.Policy{AllowPrivate: true}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "page tests need Chromium (make deps installs it): %v\n", err)
		os.Exit(1)
	}
	browser = p
	code := m.Run()
	p.Close()
	os.Exit(code)
}

// clock is a movable time source shared by the service and its store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// origin serves a page whose text and status the test changes.
type originSite struct {
	srv     *httptest.Server
	fetches atomic.Int64
	text    atomic.Value // string
	status  atomic.Int64
	hang    atomic.Bool
}

func newOrigin(t *testing.T) *originSite {
	o := &originSite{}
	o.text.Store("version one")
	o.status.Store(200)
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.fetches.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(int(o.status.Load()))
		if o.hang.Load() {
			io.WriteString(w, `<html><body><script>window.prerenderReady=false</script>never ready</body></html>`)
			return
		}
		fmt.Fprintf(w, `<html><body><p id="t"></p><script>document.getElementById('t').textContent=%q</script></body></html>`, o.text.Load().(string))
	}))
	t.Cleanup(o.srv.Close)
	return o
}

// newService returns a single-node page service over a real browser and
// Pebble; cur holds the domain it serves, which a test may change.
func newService(t *testing.T, cur *atomic.Pointer[domain.Domain], c *clock, opts ...func(*page.Config)) (*page.Service, *pagestore.Store) {
	db, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := pagestore.Open(db.Local(), pagestore.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg := page.Config{
		Node:     "solo",
		Ring:     cache.NewRing("solo"),
		Client:   http.DefaultClient,
		Bytes:    1 << 20,
		Store:    store,
		Renderer: browser,
		Domain: func(host string) (domain.Domain, error) {
			d := *cur.Load()
			if host != d.Domain {
				return domain.Domain{}, domain.ErrNotFound
			}
			return d, nil
		},
		Now: c.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := page.New(cfg)
	t.Cleanup(s.Close)
	return s, store
}

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStaleWhileRevalidateKeepsGoodPages(t *testing.T) {
	o := newOrigin(t)
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	d := domain.Domain{Domain: "swr.test", Origin: o.srv.URL, CacheTTL: 60}
	var cur atomic.Pointer[domain.Domain]
	cur.Store(&d)
	s, store := newService(t, &cur, c)
	ctx := context.Background()
	key := s.KeyFor(d, render.Desktop, "/").StoreKey()

	p, st, err := s.Get(ctx, d, render.Desktop, "/", render.Live)
	if err != nil || !strings.Contains(string(p.Body()), "version one") || st != edge.Miss {
		t.Fatalf("first get: %v %v %s", err, st, p.Body())
	}

	// Past the TTL: the stale page is served at once and re-rendered in
	// the background.
	o.text.Store("version two")
	c.Add(61 * time.Second)
	p, st, err = s.Get(ctx, d, render.Desktop, "/", render.Live)
	if err != nil || !strings.Contains(string(p.Body()), "version one") || st != edge.Hit || p.Fresh(c.Now()) {
		t.Fatalf("stale get: %v %v fresh=%v %s", err, st, p.Fresh(c.Now()), p.Body())
	}
	poll(t, "the background re-render to reach L2", func() bool {
		v, _, ok, _ := store.Get(key)
		return ok && strings.Contains(string(v), "version two")
	})
	c.Add(20 * time.Second) // the next cache generation reads the new L2 copy
	p, _, err = s.Get(ctx, d, render.Desktop, "/", render.Live)
	if err != nil || !strings.Contains(string(p.Body()), "version two") {
		t.Fatalf("after revalidation: %v %s", err, p.Body())
	}

	// A failed re-render (the origin now answers 500) keeps the good page.
	o.status.Store(500)
	fetched := o.fetches.Load()
	c.Add(61 * time.Second)
	p, _, err = s.Get(ctx, d, render.Desktop, "/", render.Live)
	if err != nil || p.Status() != 200 || !strings.Contains(string(p.Body()), "version two") {
		t.Fatalf("stale get with a failing origin: %v %d %s", err, p.Status(), p.Body())
	}
	poll(t, "the failing re-render", func() bool { return o.fetches.Load() > fetched && s.Stats().RenderFailures.Load() > 0 })
	v, _, ok, _ := store.Get(key)
	if !ok || !strings.Contains(string(v), "version two") {
		t.Fatal("a failed re-render replaced the good page in L2")
	}
}

func TestFailedRendersAreNotCached(t *testing.T) {
	o := newOrigin(t)
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	d := domain.Domain{Domain: "fail.test", Origin: o.srv.URL, CacheTTL: 3600, Render: domain.RenderSettings{TimeoutMs: 1000}}
	var cur atomic.Pointer[domain.Domain]
	cur.Store(&d)
	s, store := newService(t, &cur, c)
	ctx := context.Background()

	cases := []struct {
		name  string
		setup func()
	}{
		{"timeout", func() { o.hang.Store(true); o.status.Store(200) }},
		{"origin 503", func() { o.hang.Store(false); o.status.Store(503) }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			url := fmt.Sprintf("/fail/%d", i)
			_, _, err := s.Get(ctx, d, render.Desktop, url, render.Live)
			if !errors.Is(err, page.ErrRenderFailed) || errkind.KindOf(err) != errkind.Unavailable {
				t.Fatalf("err = %v, want a render failure (503)", err)
			}
			if _, _, ok, _ := store.Get(s.KeyFor(d, render.Desktop, url).StoreKey()); ok {
				t.Fatal("a failed render was stored")
			}
			// Nothing was cached in memory either: once the origin
			// recovers, the next request renders.
			// The domain's short timeout goes too, so a busy machine
			// does not fail the good render (the cache key stays the same).
			o.hang.Store(false)
			o.status.Store(200)
			relaxed := d
			relaxed.Render.TimeoutMs = 0
			cur.Store(&relaxed)
			defer cur.Store(&d)
			p, _, err := s.Get(ctx, relaxed, render.Desktop, url, render.Live)
			if err != nil || p.Status() != 200 {
				t.Fatalf("after recovery: %v %d", err, p.Status())
			}
		})
	}
	t.Run("origin unreachable", func(t *testing.T) {
		gone := d
		gone.Origin = "http://127.0.0.1:1" // nothing listens on port 1
		cur.Store(&gone)
		defer cur.Store(&d)
		_, _, err := s.Get(ctx, gone, render.Desktop, "/gone", render.Live)
		if e := errkind.Of(err); !errors.Is(err, page.ErrRenderFailed) || e == nil || e.RetryAfter == 0 {
			t.Fatalf("err = %v, want a render failure with Retry-After", err)
		}
	})
}

// The key's owner may not have applied a domain that the requesting node
// already serves (it was created a moment ago): the fill takes one fresh
// read before it gives up, instead of answering 404.
func TestFillReadsAnUnknownDomainFresh(t *testing.T) {
	o := newOrigin(t)
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	d := domain.Domain{Domain: "new.test", Origin: o.srv.URL, CacheTTL: 60}
	var cur atomic.Pointer[domain.Domain]
	cur.Store(&domain.Domain{Domain: "other.test"}) // not applied here yet
	var barriers atomic.Int64
	s, _ := newService(t, &cur, c, func(cfg *page.Config) {
		cfg.Fresh = func(context.Context) error {
			barriers.Add(1)
			cur.Store(&d) // the barrier brings the create
			return nil
		}
	})
	a, outcome, err := s.Get(context.Background(), d, render.Desktop, "/", render.Live)
	if err != nil || outcome != edge.Miss || !strings.Contains(string(a.Body()), "version one") {
		t.Fatalf("fill of a domain created elsewhere: %v %v", err, outcome)
	}
	if barriers.Load() != 1 {
		t.Fatalf("%d barriers, want 1", barriers.Load())
	}
	// A domain that does not exist even after the barrier is not found.
	gone := domain.Domain{Domain: "gone.test", Origin: o.srv.URL, CacheTTL: 60}
	if _, _, err := s.Get(context.Background(), gone, render.Desktop, "/", render.Live); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("fill of a deleted domain: %v, want not found", err)
	}
}
