package page_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/render"
)

// guardOrigin serves one article whose form the test switches: the good
// page, an empty app shell, a 500, the page without its title, a 404.
type guardOrigin struct {
	srv     *httptest.Server
	mode    atomic.Value // string
	gen     atomic.Int64 // part of the good page's text, to tell renders apart
	fetches atomic.Int64
}

// goodArticle is the article as the origin serves it when all is well.
const goodArticle = `<!DOCTYPE html><html><head><title>Blue shoes | Shop</title>
<link rel="canonical" href="https://shop.example/blue-shoes"></head>
<body><h1>Blue shoes</h1><p>Our blue shoes are made of canvas and rubber, sewn by hand, and last for years of walking (generation %d).</p></body></html>`

func newGuardOrigin(t *testing.T) *guardOrigin {
	o := &guardOrigin{}
	o.mode.Store("good")
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		o.fetches.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		good := fmt.Sprintf(goodArticle, o.gen.Load())
		switch o.mode.Load().(string) {
		case "shell":
			io.WriteString(w, `<!DOCTYPE html><html><head><title>Blue shoes | Shop</title><link rel="canonical" href="https://shop.example/blue-shoes"></head><body><div id="root"></div></body></html>`)
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "<html><body>upstream down</body></html>")
		case "notitle":
			io.WriteString(w, strings.Replace(good, "<title>Blue shoes | Shop</title>", "", 1))
		case "404":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "<!DOCTYPE html><html><head><title>Not found</title></head><body><h1>This page is gone</h1></body></html>")
		default:
			io.WriteString(w, good)
		}
	}))
	t.Cleanup(o.srv.Close)
	return o
}

// metric returns the value of the sample of name whose labels include
// label=value (any sample when label is ""), from c.
func metric(t *testing.T, c prometheus.Collector, name, label, value string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					match = true
				}
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	t.Fatalf("no metric %s{%s=%q}", name, label, value)
	return 0
}

// Stale-while-revalidate goes through the quality guard: a stale page
// whose re-render is an empty shell, a 500 or loses its title stays
// cached and served, each rejection counted by reason; the rejected page
// is retried later (the retry is held back until then); a 404 the origin
// confirms on two consecutive renders replaces it.
func TestQualityGuardKeepsGoodPagesOnRevalidation(t *testing.T) {
	o := newGuardOrigin(t)
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	d := domain.Domain{Domain: "guard.test", Origin: o.srv.URL, CacheTTL: 600, Quality: domain.DefaultQuality()}
	var cur atomic.Pointer[domain.Domain]
	cur.Store(&d)
	s, store := newService(t, &cur, c, func(cfg *page.Config) { cfg.Recache.Tick = 20 * time.Millisecond })
	ctx := context.Background()
	key := s.KeyFor(d, render.Desktop, "/shoes").StoreKey()
	stored := func() *edge.Answer {
		t.Helper()
		v, _, ok, err := store.Get(key)
		if err != nil || !ok {
			t.Fatalf("L2 copy: %v %v", ok, err)
		}
		a, err := page.DecodeValue(v)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	a, outcome, err := s.Get(ctx, d, render.Desktop, "/shoes", render.Live)
	if err != nil || outcome != edge.Miss || !strings.Contains(string(a.Body()), "generation 0") {
		t.Fatalf("first get: %v %v %s", err, outcome, a.Body())
	}
	rendered := stored().StoredAt()
	if _, _, err := s.Get(ctx, d, render.Desktop, "/gone", render.Live); err != nil {
		t.Fatal(err)
	}

	// Each step is past the TTL (600 s) and past the retry the guard
	// scheduled (a TTL/8 base, doubling), within the L2 life of the kept
	// page (two TTLs, extended to a TTL past each retry).
	for _, tc := range []struct {
		mode, reason string
		step         time.Duration
	}{{"shell", "text", 11 * time.Minute}, {"500", "status", 2 * time.Minute}, {"notitle", "title", 3 * time.Minute}} {
		t.Run(tc.mode, func(t *testing.T) {
			o.mode.Store(tc.mode)
			before := metric(t, s.Collector(), "rendercache_page_quality_rejections_total", "reason", tc.reason)
			c.Add(tc.step)
			a, _, err := s.Get(ctx, d, render.Desktop, "/shoes", render.Live)
			if err != nil || a.Status() != 200 || !strings.Contains(string(a.Body()), "Our blue shoes") {
				t.Fatalf("stale get: %v %d %s", err, a.Status(), a.Body())
			}
			poll(t, "the rejection of the "+tc.mode+" re-render", func() bool {
				return metric(t, s.Collector(), "rendercache_page_quality_rejections_total", "reason", tc.reason) > before
			})
			if got := stored(); !got.StoredAt().Equal(rendered) || !strings.Contains(string(got.Body()), "Our blue shoes") {
				t.Fatalf("the L2 copy changed: rendered %v, body %s", got.StoredAt(), got.Body())
			}
			// Served from the next cache generation too.
			c.Add(20 * time.Second)
			a, _, err = s.Get(ctx, d, render.Desktop, "/shoes", render.Live)
			if err != nil || !strings.Contains(string(a.Body()), "Our blue shoes") || !a.StoredAt().Equal(rendered) {
				t.Fatalf("after the rejection: %v %s", err, a.Body())
			}
		})
	}

	// A 404 replaces a page once the origin confirms it: the first is
	// rejected, the retry the guard scheduled gets the second.
	o.mode.Store("404")
	gone := s.KeyFor(d, render.Desktop, "/gone").StoreKey()
	goneStatus := func() int {
		v, _, ok, _ := store.Get(gone)
		if !ok {
			return 0
		}
		a, err := page.DecodeValue(v)
		if err != nil {
			return 0
		}
		return a.Status()
	}
	before := metric(t, s.Collector(), "rendercache_page_quality_rejections_total", "reason", "status")
	if a, _, err := s.Get(ctx, d, render.Desktop, "/gone", render.Live); err != nil || a.Status() != 200 {
		t.Fatalf("stale /gone: %v", err)
	}
	poll(t, "a first 404, rejected", func() bool {
		return metric(t, s.Collector(), "rendercache_page_quality_rejections_total", "reason", "status") > before
	})
	if st := goneStatus(); st != 200 {
		t.Fatalf("one 404 replaced the page: %d", st)
	}
	c.Add(2 * time.Minute)
	poll(t, "the confirmed 404 to replace the page", func() bool { return goneStatus() == 404 })
}

// A guarded refresh reports what the guard did: a worse render is a
// *page.Rejected naming the reason and the page stays; a good one
// replaces it at once in L2.
func TestGuardedRefreshReportsRejection(t *testing.T) {
	o := newGuardOrigin(t)
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	d := domain.Domain{Domain: "refresh.test", Origin: o.srv.URL, CacheTTL: 3600, Quality: domain.QualitySettings{SoftErrorMarkers: []string{"temporarily unavailable"}}}
	var cur atomic.Pointer[domain.Domain]
	cur.Store(&d)
	s, store := newService(t, &cur, c)
	ctx := context.Background()
	if _, _, err := s.Get(ctx, d, render.Desktop, "/", render.Live); err != nil {
		t.Fatal(err)
	}
	o.mode.Store("shell")
	out, err := s.Refresh(ctx, d, render.Desktop, "/", "webhook")
	if err != nil {
		t.Fatal(err)
	}
	var rej *page.Rejected
	if out.Replaced || out.Reason != "text" || !asRejected(out.Err(), &rej) || rej.QualityReason() != "text" || !strings.Contains(rej.Error(), "cached page is kept") {
		t.Fatalf("refresh to an empty shell: %+v, %v", out, out.Err())
	}
	o.mode.Store("good")
	o.gen.Store(2)
	c.Add(time.Second)
	out, err = s.Refresh(ctx, d, render.Desktop, "/", "webhook")
	if err != nil || !out.Replaced || out.Err() != nil {
		t.Fatalf("refresh to a good page: %+v, %v", out, err)
	}
	v, _, _, _ := store.Get(s.KeyFor(d, render.Desktop, "/").StoreKey())
	if a, err := page.DecodeValue(v); err != nil || !strings.Contains(string(a.Body()), "generation 2") {
		t.Fatalf("L2 after an accepted refresh: %v", err)
	}
	// A page never cached is simply rendered and stored.
	out, err = s.Refresh(ctx, d, render.Mobile, "/", "refresh")
	if err != nil || !out.Replaced {
		t.Fatalf("refresh of an uncached page: %+v %v", out, err)
	}
}

func asRejected(err error, target **page.Rejected) bool {
	r, ok := err.(*page.Rejected)
	*target = r
	return ok
}
