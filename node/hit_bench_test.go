package node_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/testcluster"
)

// pageRenderer stands in for Chromium with a fixed page of n bytes, so
// that the benchmark measures the hit path and nothing else.
type pageRenderer struct{ body []byte }

func (p pageRenderer) Render(context.Context, render.Request) (render.Result, error) {
	return render.Result{Status: 200, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: p.body, Rendered: true}, nil
}

// benchPage returns n bytes of HTML.
func benchPage(n int) []byte {
	var b bytes.Buffer
	b.WriteString("<!doctype html><html><head><title>bench</title></head><body>\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "<div class=\"c%d\"><a href=\"/p/%d\">page %d of the cache</a></div>\n", i%50, i*7919%100000, i)
	}
	return b.Bytes()[:n]
}

const benchBot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

// BenchmarkHit measures one crawler hit through the node's public
// handler, without the network: what the hit path costs in CPU and
// allocations (make bench-hit measures it over HTTP).
func BenchmarkHit(b *testing.B) {
	for _, size := range []int{512, 28 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			c := testcluster.New(b, 1, testcluster.Options{Renderer: pageRenderer{benchPage(size)}})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := c.WaitLeader(ctx); err != nil {
				b.Fatal(err)
			}
			resp, err := c.Do(ctx, 0, "POST", "/admin/accounts", map[string]string{"email": "bench@example.com", "plan": "enterprise"})
			if err != nil || resp.Status != 201 {
				b.Fatalf("account: %v %v", resp, err)
			}
			id := resp.JSON()["id"].(string)
			resp, err = c.Do(ctx, 0, "POST", "/admin/accounts/"+id+"/api-keys", map[string]any{"name": "bench", "roles": []string{}})
			if err != nil || resp.Status != 201 {
				b.Fatalf("key: %v %v", resp, err)
			}
			key := resp.JSON()["key"].(string)
			resp, err = testcluster.Do(ctx, c.URL(0), "POST", "/api/domains", "Bearer "+key, map[string]string{"domain": "www.bench.test", "origin": "http://127.0.0.1:9"})
			if err != nil || resp.Status != 201 {
				b.Fatalf("domain: %v %v", resp, err)
			}
			h := c.Node(0).Handler()
			r := httptest.NewRequest(http.MethodGet, "http://www.bench.test/product/1", nil)
			r.Header.Set("User-Agent", benchBot)
			r.Header.Set("Accept-Encoding", "gzip, deflate, br")
			w := &discard{h: http.Header{}}
			h.ServeHTTP(w, r)
			if w.code != 200 {
				b.Fatalf("warm: %d", w.code)
			}
			w = &discard{h: http.Header{}}
			h.ServeHTTP(w, r)
			if cs := w.h.Get("Cache-Status"); !strings.Contains(cs, "hit") {
				b.Fatalf("second request: Cache-Status %q, want a hit", cs)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w.h = http.Header{}
				w.code = 0
				h.ServeHTTP(w, r)
			}
			b.StopTimer()
			if w.code != 200 {
				b.Fatalf("hit: %d", w.code)
			}
		})
	}
}

// discard is a ResponseWriter that keeps the status and headers and
// drops the body, as a connection's writer would after sending it.
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
