package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/testcluster"
)

const (
	googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	person    = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)

// site is a customer's origin: a JavaScript-only app whose content arrives
// through fetch(), plus a few special paths. It counts requests by path.
type site struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int
	gen  int // part of every page's content; tests bump it to tell renders apart
}

func newSite(t *testing.T) *site {
	s := &site{hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		gen := s.gen
		s.mu.Unlock()
		switch r.URL.Path {
		case "/api/data":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"text": fmt.Sprintf("content of %s (generation %d)", r.URL.Query().Get("p"), gen)})
		case "/data.json", "/feed":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"feed":true}`)
		case "/missing":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `<html><body><h1>Not here</h1></body></html>`)
		case "/old":
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
		case "/sitemap.xml":
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<sitemapindex><sitemap><loc>https://www.shop.test/sitemap-pages.xml</loc></sitemap></sitemapindex>`)
		case "/sitemap-pages.xml":
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<urlset><url><loc>https://www.shop.test/warm/one</loc></url><url><loc>https://www.shop.test/warm/two?b=2&amp;a=1</loc></url><url><loc>https://elsewhere.example/x</loc></url></urlset>`)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, `<!DOCTYPE html><html><head><title>shop</title></head><body><div id="app"></div>
<script>fetch('/api/data?p='+encodeURIComponent(location.pathname)).then(r=>r.json()).then(d=>{document.getElementById('app').textContent=d.text})</script>
</body></html>`)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) setGen(g int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen = g
}

func (s *site) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// noRedirects shows redirects to the test as they are, the way crawlers
// see them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// crawl asks node i for path of host as user agent ua.
func crawl(ctx context.Context, c *testcluster.Cluster, i int, host, path, ua string) (*testcluster.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL(i)+path, nil)
	if err != nil {
		return nil, err
	}
	req.Host = host
	req.Header.Set("User-Agent", ua)
	resp, err := noRedirects.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return &testcluster.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, err
}

// renderFixture is a 3-node cluster with one agency account owning
// www.shop.test, whose origin is a local site.
type renderFixture struct {
	*fixture
	site *site
	host string
	key  string
	acct string // the account that owns host
}

func newRenderFixture(t *testing.T) *renderFixture {
	fx := newFixture(t, 3)
	s := newSite(t)
	acct, key := fx.account("shop@example.com", "agency")
	resp := fx.do(fx.f, "POST", "/api/domains", key, map[string]string{"domain": "www.shop.test", "origin": s.srv.URL})
	if resp.Status != 201 {
		t.Fatalf("create domain: %d %s", resp.Status, resp.Body)
	}
	if err := fx.c.WaitRing(fx.ctx); err != nil {
		t.Fatal(err)
	}
	// The domain is read from local state on the serve path: wait until
	// every node has applied it.
	if err := fx.c.WaitConverged(fx.ctx); err != nil {
		t.Fatal(err)
	}
	return &renderFixture{fixture: fx, site: s, host: "www.shop.test", key: key, acct: acct}
}

func (rf *renderFixture) crawl(i int, path string) *testcluster.Response {
	rf.t.Helper()
	resp, err := crawl(rf.ctx, rf.c, i, rf.host, path, googlebot)
	if err != nil {
		rf.t.Fatalf("crawl %s on node %d: %v", path, i, err)
	}
	return resp
}

func wantRendered(t *testing.T, resp *testcluster.Response, path string) {
	t.Helper()
	body := string(resp.Body)
	if resp.Status != 200 || !strings.Contains(body, "content of "+path) {
		t.Fatalf("status %d, body without the fetched content: %s", resp.Status, body)
	}
	if strings.Contains(body, "<script") {
		t.Fatalf("scripts were not stripped: %s", body)
	}
}

func TestConcurrentMissRendersOnceClusterWide(t *testing.T) {
	rf := newRenderFixture(t)
	const requests = 200
	var wg sync.WaitGroup
	errs := make(chan error, requests)
	for r := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := crawl(rf.ctx, rf.c, r%3, rf.host, "/products/42", googlebot)
			switch {
			case err != nil:
				errs <- err
			case resp.Status != 200 || !strings.Contains(string(resp.Body), "content of /products/42"):
				errs <- fmt.Errorf("node %d: %d %s", r%3, resp.Status, resp.Body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := rf.site.count("/products/42"); n != 1 {
		t.Fatalf("origin saw %d document fetches, want exactly 1", n)
	}
	for i := range 3 {
		resp := rf.crawl(i, "/products/42")
		wantRendered(t, resp, "/products/42")
		if cs := resp.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit") {
			t.Fatalf("node %d answered Cache-Status %q, want a hit", i, cs)
		}
		if resp.Header.Get("X-Rendercache-Node") == "" {
			t.Fatalf("node %d did not say which node rendered", i)
		}
	}
	if n := rf.site.count("/products/42"); n != 1 {
		t.Fatalf("origin saw %d document fetches after the hits, want 1", n)
	}
}

func TestOwnerKillKeepsServingAndRestartServesFromL2(t *testing.T) {
	rf := newRenderFixture(t)
	const path = "/catalog"
	first := rf.crawl(0, path)
	wantRendered(t, first, path)
	if cs := first.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=miss") {
		t.Fatalf("first request Cache-Status %q, want a miss", cs)
	}
	d, err := domain.Lookup(rf.c.Node(0).State(), rf.host)
	if err != nil {
		t.Fatal(err)
	}
	key := rf.c.Node(0).Pages().KeyFor(d, render.Desktop, path).String()
	owner, _ := rf.c.Node(0).Ring().Owner(key)
	oi := rf.c.Index(owner)
	if got := first.Header.Get("X-Rendercache-Node"); got != owner {
		t.Fatalf("rendered by %q, but the ring's owner is %q", got, owner)
	}

	rf.c.Kill(oi)
	survivors := []int{(oi + 1) % 3, (oi + 2) % 3}
	for r := range 20 {
		resp := rf.crawl(survivors[r%2], path)
		if resp.Status >= 500 {
			t.Fatalf("request %d after killing the owner: %d %s", r, resp.Status, resp.Body)
		}
		wantRendered(t, resp, path)
	}
	if err := rf.c.WaitRing(rf.ctx); err != nil {
		t.Fatal(err)
	}
	before := rf.site.count(path)

	if err := rf.c.Restart(rf.ctx, oi); err != nil {
		t.Fatal(err)
	}
	if err := rf.c.WaitRing(rf.ctx); err != nil {
		t.Fatal(err)
	}
	if err := rf.c.WaitConverged(rf.ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		resp := rf.crawl(i, path)
		wantRendered(t, resp, path)
		if cs := resp.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit") {
			t.Fatalf("node %d after the owner's restart: Cache-Status %q, want a hit from L2", i, cs)
		}
	}
	if after := rf.site.count(path); after != before {
		t.Fatalf("the restarted owner re-rendered: origin fetches %d → %d", before, after)
	}
}

func TestServePathStatusesAndPassthrough(t *testing.T) {
	rf := newRenderFixture(t)
	f := rf.f

	t.Run("origin 404 is served as 404", func(t *testing.T) {
		resp := rf.crawl(f, "/missing")
		if resp.Status != 404 || !strings.Contains(string(resp.Body), "Not here") {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
	})
	t.Run("origin 301 is returned, not followed", func(t *testing.T) {
		resp := rf.crawl(f, "/old")
		if resp.Status != 301 || resp.Header.Get("Location") != "/new" {
			t.Fatalf("%d Location=%q", resp.Status, resp.Header.Get("Location"))
		}
		if rf.site.count("/new") != 0 {
			t.Fatal("the redirect target was fetched")
		}
	})
	t.Run("non-HTML origin passes through", func(t *testing.T) {
		resp := rf.crawl(f, "/feed")
		if resp.Status != 200 || string(resp.Body) != `{"feed":true}` || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%d %q %s", resp.Status, resp.Header.Get("Content-Type"), resp.Body)
		}
	})
	t.Run("assets are proxied to crawlers", func(t *testing.T) {
		resp := rf.crawl(f, "/data.json")
		if resp.Status != 200 || string(resp.Body) != `{"feed":true}` || resp.Header.Get("Cache-Status") != "" {
			t.Fatalf("%d %v %s", resp.Status, resp.Header, resp.Body)
		}
	})
	t.Run("people get the origin unchanged", func(t *testing.T) {
		resp, err := crawl(rf.ctx, rf.c, f, rf.host, "/products/7", person)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 200 || !strings.Contains(string(resp.Body), "<script>fetch(") || resp.Header.Get("Cache-Status") != "" {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
	})
	t.Run("mobile and desktop are separate entries", func(t *testing.T) {
		const mobileBot = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36 (compatible; Googlebot/2.1)"
		wantRendered(t, rf.crawl(f, "/variants"), "/variants")
		resp, err := crawl(rf.ctx, rf.c, f, rf.host, "/variants", mobileBot)
		if err != nil {
			t.Fatal(err)
		}
		wantRendered(t, resp, "/variants")
		if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=miss") {
			t.Fatalf("mobile after desktop: Cache-Status %q, want its own miss", cs)
		}
	})
}

func TestServePathBadInput(t *testing.T) {
	rf := newRenderFixture(t)
	_, otherKey := rf.account("other@example.com", "agency")
	f := rf.f
	pr := func(path, token string) *testcluster.Response {
		t.Helper()
		resp, err := doWith(rf.ctx, rf.c.URL(f), "GET", path, map[string]string{"X-Prerender-Token": token, "User-Agent": googlebot}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	cases := []struct {
		name   string
		resp   func() *testcluster.Response
		status int
		body   string
	}{
		{"huge query string", func() *testcluster.Response { return rf.crawl(f, "/p?q="+strings.Repeat("a", 5000)) }, 400, `{"error":"URL too long"}`},
		{"unregistered host", func() *testcluster.Response {
			resp, _ := crawl(rf.ctx, rf.c, f, "nobody.example", "/", googlebot)
			return resp
		}, 404, `{"error":"not found"}`},
		{"prerender without token", func() *testcluster.Response { return pr("/https://www.shop.test/a", "") }, 401, `{"error":"API key required"}`},
		{"prerender with a bad token", func() *testcluster.Response { return pr("/https://www.shop.test/a", "rk_live_nope") }, 401, `{"error":"Invalid API key"}`},
		{"prerender of another account's domain", func() *testcluster.Response { return pr("/https://www.shop.test/a", otherKey) }, 404, `{"error":"Domain not found"}`},
		{"prerender of an unregistered host", func() *testcluster.Response { return pr("/https://nobody.example/a", rf.key) }, 404, `{"error":"Domain not found"}`},
		{"render without url", func() *testcluster.Response { return pr("/render", rf.key) }, 400, `{"error":"url must be an absolute http or https URL, such as https://example.com/page"}`},
		{"render of a relative url", func() *testcluster.Response { return pr("/render?url=/a", rf.key) }, 400, `{"error":"url must be an absolute http or https URL, such as https://example.com/page"}`},
		{"render of an ftp url", func() *testcluster.Response { return pr("/render?url=ftp://www.shop.test/a", rf.key) }, 400, `{"error":"url must be an absolute http or https URL, such as https://example.com/page"}`},
		{"render of a malformed url", func() *testcluster.Response { return pr("/render?url=https://%zz", rf.key) }, 400, `{"error":"url must be an absolute http or https URL, such as https://example.com/page"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { exactJSON(t, c.resp(), c.status, c.body) })
	}
	if n := rf.site.count("/a"); n != 0 {
		t.Fatalf("refused requests reached the origin %d times", n)
	}
}

func TestPrerenderCompatibleEndpoints(t *testing.T) {
	rf := newRenderFixture(t)
	for _, path := range []string{"/https://www.shop.test/pr/one", "/render?url=" + "https%3A%2F%2Fwww.shop.test%2Fpr%2Ftwo"} {
		resp, err := doWith(rf.ctx, rf.c.URL(rf.f), "GET", path, map[string]string{"X-Prerender-Token": rf.key, "User-Agent": googlebot}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := "/pr/one"
		if strings.HasPrefix(path, "/render") {
			want = "/pr/two"
		}
		wantRendered(t, resp, want)
		// www.shop.test resolves nowhere: the page came from the domain's
		// origin.
		if n := rf.site.count(want); n != 1 {
			t.Fatalf("the origin saw %d fetches of %s, want 1", n, want)
		}
	}
}
