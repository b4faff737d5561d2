package tenanttraffic_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/storage"
	"github.com/rendercache/rendercache/tenantproxy"
	"github.com/rendercache/rendercache/tenanttraffic"
	"github.com/rendercache/rendercache/testcluster"
)

// BenchmarkObserve measures what accounting adds to every tenant
// request. "counters": the meter alone, from parallel goroutines.
// "log": the log buffer with its writes to Pebble amortised (a flush
// every 4096 entries, a tenant's bound trimmed as it goes). "dropping":
// the whole Observe once the buffer is full, as under a flood.
func BenchmarkObserve(b *testing.B) {
	db, err := storage.Open(b.TempDir(), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	o := tenantproxy.Observation{Slug: "acme", Surface: tenanttraffic.SurfaceWebsite, Method: "GET", Path: "/products/1", Status: 200, Bytes: 28 << 10, Cache: "HIT", Start: time.Now(), Duration: 20 * time.Microsecond}
	b.Run("counters", func(b *testing.B) {
		m := tenanttraffic.NewMeter("n1", nil, db.State(), nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Observe(o)
			}
		})
	})
	b.Run("log", func(b *testing.B) {
		l, err := tenanttraffic.OpenLogs(db.Local(), tenanttraffic.LogOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := range b.N {
			o.Start = o.Start.Add(time.Microsecond)
			l.Observe(o)
			if i%4096 == 4095 {
				if err := l.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		}
		if st := l.Stats(); st.Dropped != 0 {
			b.Fatalf("%d dropped", st.Dropped)
		}
	})
	b.Run("dropping", func(b *testing.B) {
		s, err := tenanttraffic.New(tenanttraffic.Config{Node: "n1", State: db.State(), Local: db.Local(), ReportInterval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		for range 10_000 {
			s.Observe(o) // fills the buffer
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.Observe(o)
			}
		})
	})
}

// BenchmarkTenantHit measures a website hit on a tenant host through a
// node's public handler (no network), observer included: compare with
// BenchmarkObserve for the share accounting takes.
func BenchmarkTenantHit(b *testing.B) {
	body := strings.Repeat("x", 28<<10)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, body)
	}))
	defer origin.Close()
	c := testcluster.New(b, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.WaitLeader(ctx); err != nil {
		b.Fatal(err)
	}
	resp, err := c.Do(ctx, 0, "POST", "/admin/accounts", map[string]string{"email": "bench@example.com", "plan": "agency"})
	if err != nil || resp.Status != 201 {
		b.Fatalf("account: %v %v", resp, err)
	}
	id := resp.JSON()["id"].(string)
	resp, err = c.Do(ctx, 0, "POST", "/admin/accounts/"+id+"/api-keys", map[string]any{"name": "bench"})
	if err != nil || resp.Status != 201 {
		b.Fatalf("key: %v %v", resp, err)
	}
	key := resp.JSON()["key"].(string)
	resp, err = testcluster.Do(ctx, c.URL(0), "POST", "/api/tenants", "Bearer "+key, map[string]any{"slug": "bench", "cms": map[string]any{"provider": "generic"}, "websiteOrigin": origin.URL})
	if err != nil || resp.Status != 201 {
		b.Fatalf("tenant: %v %v", resp, err)
	}
	h := c.Node(0).Handler()
	req := httptest.NewRequest(http.MethodGet, "http://bench.tenants.localhost/products/1", nil)
	for {
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.code == 200 && w.h.Get("X-Cachely-Cache") == "HIT" {
			break
		}
		if ctx.Err() != nil {
			b.Fatalf("never a hit: %d %q", w.code, w.h.Get("X-Cachely-Cache"))
		}
		time.Sleep(10 * time.Millisecond) // polling until warm
	}
	w := &discard{}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.h = http.Header{}
		w.code = 0
		h.ServeHTTP(w, req)
	}
	b.StopTimer()
	if w.code != 200 || w.h.Get("X-Cachely-Cache") != "HIT" {
		b.Fatalf("hit: %d %q", w.code, w.h.Get("X-Cachely-Cache"))
	}
}

// discard is a ResponseWriter that keeps only the status and header.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}
func (d *discard) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = 200
	}
	return len(p), nil
}
