package tenantproxy_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/testcluster"
)

const googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

// jsAnswer is a JavaScript-only page: its text exists only once a
// browser has run its script.
func jsAnswer(w http.ResponseWriter, r *http.Request, gen int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html><head><title>%s</title></head><body><div id="app"></div>`+
		`<script>document.getElementById("app").textContent = "rendered %s gen %d";</script></body></html>`, r.URL.Path, r.URL.Path, gen)
}

// visit asks node i for path on host h as a crawler (ua googlebot) or a
// person.
func (fx *fixture) visit(i int, h, path, ua string) *testcluster.Response {
	fx.t.Helper()
	req, _ := http.NewRequestWithContext(fx.ctx, "GET", fx.c.URL(i)+path, nil)
	req.Host = h
	req.Header.Set("User-Agent", ua)
	return fx.send(req)
}

// A tenant that enables prerender serves its crawlers the render tier's
// pages of its website (one render for the whole cluster, then hits on
// every node, re-rendered after an HTML refresh), while people keep
// getting the website proxy's answers; switched off, crawlers get the
// origin's HTML again.
func TestCrawlersOfPrerenderingTenantsGetRenderedPages(t *testing.T) {
	pool, err := render.New(context.Background(), render.Options{Concurrency: 2, Policy: origin.Policy{AllowPrivate: true}})
	if err != nil {
		t.Fatalf("this test needs Chromium (make deps installs it): %v", err)
	}
	t.Cleanup(func() { pool.Close() })
	fx := newRenderingFixture(t, pool)
	js := newOrigin(t, jsAnswer)
	const rslug = "rendered"
	rhost := rslug + ".tenants.localhost"
	fx.mustAPI("POST", "/api/tenants", map[string]any{"slug": rslug, "cms": map[string]any{"provider": "generic"}, "websiteOrigin": js.srv.URL, "prerender": true}, 201)

	rendered := func(resp *testcluster.Response, gen int, what string) {
		t.Helper()
		body := string(resp.Body)
		if resp.Status != 200 || !strings.Contains(body, fmt.Sprintf("rendered /pricing gen %d", gen)) || strings.Contains(body, "<script") {
			t.Fatalf("%s: want the rendered page of generation %d without scripts, got %s", what, gen, resp)
		}
	}
	for i := range 3 {
		rendered(fx.visit(i, rhost, "/pricing", googlebot), 0, fmt.Sprintf("crawler on node %d", i))
	}
	if n := js.count("/pricing"); n != 1 {
		t.Fatalf("origin fetched /pricing %d times for three nodes' crawlers, want 1 render", n)
	}
	for i := range 3 {
		resp := fx.visit(i, rhost, "/pricing", googlebot)
		rendered(resp, 0, fmt.Sprintf("second crawl on node %d", i))
		if !strings.Contains(resp.Header.Get("Cache-Status"), "hit") || resp.Header.Get("X-Cachely-Cache") != "HIT" {
			t.Fatalf("second crawl on node %d: want a hit, got Cache-Status %q x-cachely-cache %q", i, resp.Header.Get("Cache-Status"), resp.Header.Get("X-Cachely-Cache"))
		}
	}

	// People get the website proxy's answer: the origin's HTML, script
	// and all.
	resp := fx.visit(1, rhost, "/pricing", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
	if resp.Status != 200 || !strings.Contains(string(resp.Body), "<script>") || resp.Header.Get("X-Cachely-Version") != "html.1" {
		t.Fatalf("person: want the origin's HTML through the website proxy, got %s (x-cachely-version %q)", resp, resp.Header.Get("X-Cachely-Version"))
	}

	// An HTML refresh re-renders.
	js.mu.Lock()
	js.gen++
	js.mu.Unlock()
	fx.mustAPI("POST", "/api/tenants/"+rslug+"/refresh-cache", map[string]string{"type": "html"}, 200)
	rendered(fx.visit(2, rhost, "/pricing", googlebot), 1, "crawl after an HTML refresh")

	// Switched off, crawlers get the origin's HTML.
	fx.mustAPI("PUT", "/api/tenants/"+rslug, map[string]any{"prerender": false}, 200)
	for i := range 3 {
		resp := fx.visit(i, rhost, "/pricing", googlebot)
		if resp.Status != 200 || !strings.Contains(string(resp.Body), "<script>") {
			t.Fatalf("crawler on node %d with prerender off: want the origin's HTML, got %s", i, resp)
		}
	}
}
