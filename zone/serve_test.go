package zone_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAssetServing(t *testing.T) {
	fx := newFixture(t)

	t.Run("one origin fetch for 100 concurrent misses", func(t *testing.T) {
		var wg sync.WaitGroup
		codes := make([]int, 100)
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(fx.ctx, "GET", fx.c.URL(i%3)+"/assets/app.css", nil)
				req.Host = fx.host
				resp, err := rawClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		for i, c := range codes {
			if c != 200 {
				t.Fatalf("request %d: %d", i, c)
			}
		}
		if n := fx.o.count("/assets/app.css"); n != 1 {
			t.Fatalf("origin fetched /assets/app.css %d times, want 1", n)
		}
		for i := range 3 {
			resp := fx.get(i, fx.host, "/assets/app.css")
			if cs := resp.Header.Get("Cache-Status"); resp.Status != 200 || !strings.Contains(cs, "hit") {
				t.Fatalf("node %d: %d, Cache-Status %q", i, resp.Status, cs)
			}
		}
	})

	t.Run("content types and default TTLs", func(t *testing.T) {
		tests := []struct {
			path, ctype string
			ttl         time.Duration
		}{
			{"/t/reset.css", "text/css", 24 * time.Hour},
			{"/t/app.js", "application/javascript", 24 * time.Hour},
			{"/t/font.woff2", "font/woff2", 7 * 24 * time.Hour},
			{"/t/font.woff", "font/woff", 7 * 24 * time.Hour},
			{"/t/logo.png", "image/png", 24 * time.Hour},
			{"/t/icon.svg", "image/svg+xml", 24 * time.Hour},
			{"/t/photo.jpg", "image/jpeg", 24 * time.Hour},
			{"/generic/a.css", "text/css", 24 * time.Hour},
			{"/typed/a.css", "text/x-custom", time.Hour},
		}
		for _, tt := range tests {
			resp := fx.get(fx.f, fx.host, tt.path)
			if resp.Status != 200 || resp.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("%s: %d %q, want %q", tt.path, resp.Status, resp.Header.Get("Content-Type"), tt.ctype)
			}
			if want := fmt.Sprintf("public, max-age=%d", int(tt.ttl.Seconds())); resp.Header.Get("Cache-Control") != want {
				t.Errorf("%s: Cache-Control %q, want %q", tt.path, resp.Header.Get("Cache-Control"), want)
			}
		}
	})

	t.Run("origin max-age and s-maxage win", func(t *testing.T) {
		fx.get(0, fx.host, "/smax.css")
		resp := fx.get(0, fx.host, "/smax.css")
		// ttl counts down from s-maxage's 77 (not max-age's 5), however
		// slow the machine.
		cs := resp.Header.Get("Cache-Status")
		_, after, hit := strings.Cut(cs, "hit; ttl=")
		var ttl int
		if _, err := fmt.Sscanf(after, "%d", &ttl); !hit || err != nil || ttl <= 60 || ttl > 77 {
			t.Errorf("s-maxage=77 over max-age=5: Cache-Status %q", cs)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "max-age=5, s-maxage=77" {
			t.Errorf("origin's Cache-Control not replayed: %q", cc)
		}
		fx.get(1, fx.host, "/short.css")
		start := time.Now()
		// max-age=1: once a second has passed the object is fetched again.
		for fx.o.count("/short.css") < 2 {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("/short.css fetched %d times in 10s, want a refetch after max-age=1", fx.o.count("/short.css"))
			}
			fx.get(1, fx.host, "/short.css")
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("no-store and private pass through", func(t *testing.T) {
		for _, p := range []string{"/nostore.js", "/private.css"} {
			for i := range 3 {
				resp := fx.get(i, fx.host, p)
				if resp.Status != 200 || !strings.Contains(resp.Header.Get("Cache-Status"), "bypass") {
					t.Fatalf("%s on node %d: %d %q", p, i, resp.Status, resp.Header.Get("Cache-Status"))
				}
			}
			// The first request found out through the cache; every later
			// one goes straight to the origin.
			if n := fx.o.count(p); n < 3 {
				t.Fatalf("%s fetched %d times for 3 requests: cached?", p, n)
			}
		}
	})

	t.Run("origin 404 is cached briefly", func(t *testing.T) {
		for i := range 3 {
			if resp := fx.get(i, fx.host, "/missing.css"); resp.Status != 404 {
				t.Fatalf("node %d: %s", i, resp)
			}
		}
		if n := fx.o.count("/missing.css"); n != 1 {
			t.Fatalf("origin asked %d times for a missing asset, want 1", n)
		}
	})

	t.Run("20 MiB streams uncached", func(t *testing.T) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 2 {
			req, _ := http.NewRequestWithContext(fx.ctx, "GET", fx.c.URL(fx.f)+"/big.bin", nil)
			req.Host = fx.host
			resp, err := rawClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || n != bigSize {
				t.Fatalf("big: %d, %d bytes, %v", resp.StatusCode, n, err)
			}
		}
		runtime.ReadMemStats(&after)
		// Two 20 MiB answers went through the node (and the origin and
		// the client, all in this process) with far less allocated than
		// one of them: nothing buffered it whole.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
			t.Errorf("%d MiB allocated while streaming 2 × 20 MiB", alloc>>20)
		}
		if n := fx.o.count("/big.bin"); n < 2 {
			t.Fatalf("big fetched %d times: cached?", n)
		}
	})

	t.Run("semantics", func(t *testing.T) {
		resp := fx.get(0, fx.host, "/assets/app.css", "Accept-Encoding", "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("ETag") == "" {
			t.Fatalf("gzip: %v", resp.Header)
		}
		if r := fx.get(1, fx.host, "/assets/app.css", "Accept-Encoding", "gzip", "If-None-Match", resp.Header.Get("ETag")); r.Status != 304 {
			t.Fatalf("If-None-Match: %d", r.Status)
		}
		if r := fx.get(2, fx.host, "/assets/app.css", "Range", "bytes=0-9"); r.Status != 206 || len(r.Body) != 10 {
			t.Fatalf("Range: %d, %d bytes", r.Status, len(r.Body))
		}
	})

	t.Run("unknown zone is 404 JSON", func(t *testing.T) {
		resp := fx.get(0, "nothere.cdn.localhost", "/a.css")
		if resp.Status != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("unknown zone: %s %v", resp, resp.Header)
		}
	})

	t.Run("purges", func(t *testing.T) {
		others := []int{(fx.f + 1) % 3, (fx.f + 2) % 3}
		missOnOthers := func(path string, before int) {
			t.Helper()
			for j, i := range others {
				cs := fx.get(i, fx.host, path).Header.Get("Cache-Status")
				if j == 0 && !strings.Contains(cs, "miss") {
					t.Fatalf("%s on node %d right after the purge: %q, want a miss", path, i, cs)
				}
			}
			if n := fx.o.count(path); n != before+1 {
				t.Fatalf("%s fetched %d times after the purge, want %d", path, n, before+1)
			}
		}
		fx.o.bump()
		n := fx.warm("/p/one.css")
		fx.purge("&path=/p/one.css")
		missOnOthers("/p/one.css", n)

		n1, n2 := fx.warm("/pre/a/x.css"), fx.warm("/pre/b.js")
		fx.purge("&path=/pre/*")
		missOnOthers("/pre/a/x.css", n1)
		missOnOthers("/pre/b.js", n2)

		n = fx.warm("/tagged/t.css")
		ns := fx.warm("/skey/s.css")
		fx.purge("&tag=product-1")
		missOnOthers("/tagged/t.css", n)
		fx.purge("&tag=sk2")
		missOnOthers("/skey/s.css", ns)

		// A node that never served an object does not know its tags: it
		// finds out from the cached copy, and asks again.
		fx.get(fx.f, fx.host, "/tagged/only-here.css")
		n = fx.o.count("/tagged/only-here.css")
		fx.purge("&tag=all")
		for _, i := range others {
			fx.get(i, fx.host, "/tagged/only-here.css")
		}
		if got := fx.o.count("/tagged/only-here.css"); got != n+1 {
			t.Fatalf("tag-purged object fetched %d times, want %d: the old copy was served", got, n+1)
		}

		n = fx.warm("/z/whole.css")
		fx.purge("")
		missOnOthers("/z/whole.css", n)

		// Soft: the next request is the stale copy at once, and one
		// refetch revalidates it with If-None-Match.
		n = fx.warm("/soft/s.css")
		fx.purge("&path=/soft/s.css&soft=true")
		for _, i := range others {
			if resp := fx.get(i, fx.host, "/soft/s.css"); resp.Status != 200 {
				t.Fatalf("soft-purged on node %d: %s", i, resp)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for fx.o.conditional("/soft/s.css") == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no revalidation after a soft purge (%d fetches, %d before)", fx.o.count("/soft/s.css"), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("stale if error", func(t *testing.T) {
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=1")
			fmt.Fprint(w, "the last good copy")
		}))
		_, host := fx.newZone("flaky", down.URL)
		if resp := fx.get(fx.f, host, "/s.css"); string(resp.Body) != "the last good copy" {
			t.Fatalf("first: %s", resp)
		}
		down.Close()
		// Until max-age=1 runs out the copy is fresh; past it, with the
		// origin gone, it is served stale: a negative ttl.
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp := fx.get(fx.f, host, "/s.css")
			if resp.Status != 200 || string(resp.Body) != "the last good copy" {
				t.Fatalf("origin down, stale copy at hand: %s", resp)
			}
			if strings.Contains(resp.Header.Get("Cache-Status"), "ttl=-") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("never served past its max-age: Cache-Status %q", resp.Header.Get("Cache-Status"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("usage counts every node", func(t *testing.T) {
		before := fx.usage(t)
		for i := range 3 {
			for range 5 {
				fx.get(i, fx.host, "/assets/app.css")
			}
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			u := fx.usage(t)
			if u["requests"].(float64) >= before["requests"].(float64)+15 && u["bandwidth_bytes"].(float64) >= before["bandwidth_bytes"].(float64)+15*2000 {
				if r := u["cache_hit_rate"].(float64); r <= 0 || r > 1 {
					t.Fatalf("hit rate %v", r)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("usage %v after 15 requests on 3 nodes, before %v", u, before)
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
}

func (fx *fixture) usage(t *testing.T) map[string]any {
	t.Helper()
	resp := fx.apiWith(fx.usageKey, fx.f, "GET", "/v1/usage", nil)
	if resp.Status != 200 {
		t.Fatalf("usage: %s", resp)
	}
	return resp.JSON()
}
