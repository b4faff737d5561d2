package httpapi_test

// The serve path itself (edge and the render surface) is tested in package
// page; these are the fixtures of the API tests that crawl pages to fill
// the cache they manage.

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

	"github.com/rendercache/rendercache/testcluster"
)

const googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

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
