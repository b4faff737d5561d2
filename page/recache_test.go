package page_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/cachectl"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/render"
)

// Proactive recache: a page a crawler requested is re-rendered at the
// background priority before its TTL runs out (at the domain's lead), so
// the next crawler request is a hit on a fresher page; a page only a job
// filled is not; a page no crawler asked for within a TTL is left to
// expire; recache renders count as renders and stop at the quota. The
// clock is the test's, so "before it expires" holds however slow the
// machine is.
func TestProactiveRecache(t *testing.T) {
	o := newGuardOrigin(t)
	o.gen.Store(1)
	t0 := time.Unix(1_800_000_000, 0)
	c := &clock{t: t0}
	d := domain.Domain{Domain: "recache.test", Origin: o.srv.URL, CacheTTL: 60, Quality: domain.DefaultQuality(),
		Recache: domain.RecacheSettings{Enabled: true, LeadFraction: 0.5}}
	var cur atomic.Pointer[domain.Domain]
	cur.Store(&d)
	var renders atomic.Int64
	var over atomic.Bool
	s, store := newService(t, &cur, c, func(cfg *page.Config) {
		cfg.Recache = page.RecacheConfig{Tick: 20 * time.Millisecond, Rate: 100, DomainRate: 100}
		cfg.Rendered = func(domain.Domain) { renders.Add(1) }
		cfg.Allow = func(domain.Domain) error {
			if over.Load() {
				return cachectl.ErrOverQuota
			}
			return nil
		}
	})
	ctx := context.Background()
	storedAt := func(url string) (time.Time, string) {
		t.Helper()
		v, _, ok, _ := store.Get(s.KeyFor(d, render.Desktop, url).StoreKey())
		if !ok {
			return time.Time{}, ""
		}
		a, err := page.DecodeValue(v)
		if err != nil {
			t.Fatal(err)
		}
		return a.StoredAt(), string(a.Body())
	}
	indexed := func() float64 {
		return metric(t, s.Collector(), "rendercache_page_recache_index_pages", "", "")
	}

	first, outcome, err := s.Get(ctx, d, render.Desktop, "/hot", render.Live)
	if err != nil || outcome != edge.Miss {
		t.Fatalf("first crawl: %v %v", err, outcome)
	}
	for _, u := range []string{"/once"} {
		if _, _, err := s.Get(ctx, d, render.Desktop, u, render.Live); err != nil {
			t.Fatal(err)
		}
	}
	// A job's fill (background) is not a crawler's request.
	if _, _, err := s.Get(ctx, d, render.Desktop, "/job", render.Background); err != nil {
		t.Fatal(err)
	}
	if n := indexed(); n != 2 {
		t.Fatalf("%v pages indexed, want the 2 crawled", n)
	}

	// Half the TTL is the lead: past 30 s the crawled pages are due, well
	// before they expire at 60 s.
	o.gen.Store(2)
	before := renders.Load()
	c.Add(31 * time.Second)
	recached := t0.Add(31 * time.Second)
	poll(t, "the crawled pages to be re-rendered before they expire", func() bool {
		h, _ := storedAt("/hot")
		o, _ := storedAt("/once")
		return h.Equal(recached) && o.Equal(recached)
	})
	if _, body := storedAt("/hot"); !strings.Contains(body, "generation 2") {
		t.Fatalf("recached page: %s", body)
	}
	if at, _ := storedAt("/job"); !at.Equal(t0) {
		t.Fatalf("a page no crawler asked for was re-rendered at %v", at)
	}
	if got := renders.Load() - before; got != 2 {
		t.Fatalf("%d recache renders counted, want 2", got)
	}
	if s.Stats().Recaches.Load() < 2 {
		t.Fatalf("recaches %d", s.Stats().Recaches.Load())
	}

	// The next crawler request is a hit on the fresher page.
	a, outcome, err := s.Get(ctx, d, render.Desktop, "/hot", render.Live)
	if err != nil || outcome != edge.Hit || !a.StoredAt().After(first.StoredAt()) || !a.Fresh(c.Now()) || !strings.Contains(string(a.Body()), "generation 2") {
		t.Fatalf("crawl after the recache: %v outcome %v stored %v (first %v) fresh %v", err, outcome, a.StoredAt(), first.StoredAt(), a.Fresh(c.Now()))
	}

	// Past the next due time /hot was asked for within a TTL and is
	// re-rendered again; /once was not (its one request is 62 s old) and
	// leaves the index, to expire.
	o.gen.Store(3)
	c.Add(31 * time.Second)
	again := c.Now()
	poll(t, "/hot's second recache and /once leaving the index", func() bool {
		h, _ := storedAt("/hot")
		return h.Equal(again) && indexed() == 1
	})
	if at, _ := storedAt("/once"); !at.Equal(recached) {
		t.Fatalf("/once, asked for once, was re-rendered again at %v", at)
	}

	// Over the quota, recache renders nothing and the page leaves the index.
	over.Store(true)
	c.Add(31 * time.Second)
	poll(t, "the index to empty over the quota", func() bool { return indexed() == 0 })
	if at, _ := storedAt("/hot"); !at.Equal(again) {
		t.Fatalf("a page was recached over the quota at %v", at)
	}
}

// A domain with recache switched off indexes nothing.
func TestRecacheOff(t *testing.T) {
	o := newGuardOrigin(t)
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	d := domain.Domain{Domain: "norecache.test", Origin: o.srv.URL, CacheTTL: 60, Recache: domain.RecacheSettings{Enabled: false, LeadFraction: 0.5}}
	var cur atomic.Pointer[domain.Domain]
	cur.Store(&d)
	s, _ := newService(t, &cur, c)
	if _, _, err := s.Get(context.Background(), d, render.Desktop, "/", render.Live); err != nil {
		t.Fatal(err)
	}
	if n := metric(t, s.Collector(), "rendercache_page_recache_index_pages", "", ""); n != 0 {
		t.Fatalf("%v pages indexed with recache off", n)
	}
}
