package page_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/testcluster"
)

func TestConcurrentMissRendersOnceClusterWide(t *testing.T) {
	fx := newServingFixture(t)
	const requests = 200
	var wg sync.WaitGroup
	errs := make(chan error, requests)
	for r := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := send(fx.ctx, fx.c.URL(r%3), "GET", fx.host, "/products/42", "User-Agent", googlebot)
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
	if n := fx.site.count("/products/42"); n != 1 {
		t.Fatalf("origin saw %d document fetches, want exactly 1", n)
	}
	for i := range 3 {
		resp := fx.crawl(i, "/products/42")
		wantRendered(t, resp, "/products/42")
		if cs := resp.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit") {
			t.Fatalf("node %d answered Cache-Status %q, want a hit", i, cs)
		}
		if resp.Header.Get("X-Rendercache-Node") == "" || resp.Header.Get("X-Rendercache-Served-By") != fx.c.Name(i) {
			t.Fatalf("node %d: X-Rendercache-Node %q, Served-By %q", i, resp.Header.Get("X-Rendercache-Node"), resp.Header.Get("X-Rendercache-Served-By"))
		}
	}
	if n := fx.site.count("/products/42"); n != 1 {
		t.Fatalf("origin saw %d document fetches after the hits, want 1", n)
	}
}

func TestOwnerKillKeepsServingAndRestartServesFromL2(t *testing.T) {
	fx := newServingFixture(t)
	const path = "/catalog"
	first := fx.crawl(0, path)
	wantRendered(t, first, path)
	if cs := first.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=miss") {
		t.Fatalf("first request Cache-Status %q, want a miss", cs)
	}
	d, err := domain.Lookup(fx.c.Node(0).State(), fx.host)
	if err != nil {
		t.Fatal(err)
	}
	key := fx.c.Node(0).Pages().KeyFor(d, render.Desktop, path).String()
	owner, _ := fx.c.Node(0).Ring().Owner(key)
	oi := fx.c.Index(owner)
	if got := first.Header.Get("X-Rendercache-Node"); got != owner {
		t.Fatalf("rendered by %q, but the ring's owner is %q", got, owner)
	}

	fx.c.Kill(oi)
	survivors := []int{(oi + 1) % 3, (oi + 2) % 3}
	for r := range 20 {
		resp := fx.crawl(survivors[r%2], path)
		if resp.Status >= 500 {
			t.Fatalf("request %d after killing the owner: %d %s", r, resp.Status, resp.Body)
		}
		wantRendered(t, resp, path)
	}
	if err := fx.c.WaitRing(fx.ctx); err != nil {
		t.Fatal(err)
	}
	before := fx.site.count(path)

	if err := fx.c.Restart(fx.ctx, oi); err != nil {
		t.Fatal(err)
	}
	if err := fx.c.WaitRing(fx.ctx); err != nil {
		t.Fatal(err)
	}
	if err := fx.c.WaitConverged(fx.ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		resp := fx.crawl(i, path)
		wantRendered(t, resp, path)
		if cs := resp.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit") {
			t.Fatalf("node %d after the owner's restart: Cache-Status %q, want a hit from L2", i, cs)
		}
	}
	if after := fx.site.count(path); after != before {
		t.Fatalf("the restarted owner re-rendered: origin fetches %d → %d", before, after)
	}
}

func TestServePathStatusesAndPassthrough(t *testing.T) {
	fx := newServingFixture(t)
	f := fx.f

	t.Run("origin 404 is served as 404", func(t *testing.T) {
		resp := fx.crawl(f, "/missing")
		if resp.Status != 404 || !strings.Contains(string(resp.Body), "Not here") {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
	})
	t.Run("origin 301 is returned, not followed", func(t *testing.T) {
		resp := fx.crawl(f, "/old")
		if resp.Status != 301 || resp.Header.Get("Location") != "/new" {
			t.Fatalf("%d Location=%q", resp.Status, resp.Header.Get("Location"))
		}
		if fx.site.count("/new") != 0 {
			t.Fatal("the redirect target was fetched")
		}
	})
	t.Run("non-HTML origin passes through", func(t *testing.T) {
		resp := fx.crawl(f, "/feed")
		if resp.Status != 200 || string(resp.Body) != `{"feed":true}` || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%d %q %s", resp.Status, resp.Header.Get("Content-Type"), resp.Body)
		}
	})
	t.Run("assets are proxied to crawlers", func(t *testing.T) {
		resp := fx.crawl(f, "/data.json")
		if resp.Status != 200 || string(resp.Body) != `{"feed":true}` || resp.Header.Get("Cache-Status") != "" {
			t.Fatalf("%d %v %s", resp.Status, resp.Header, resp.Body)
		}
	})
	t.Run("people get the origin unchanged", func(t *testing.T) {
		resp := fx.request(f, "GET", fx.host, "/products/7", "User-Agent", person)
		if resp.Status != 200 || !strings.Contains(string(resp.Body), "<script>fetch(") || resp.Header.Get("Cache-Status") != "" {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
	})
	t.Run("mobile and desktop are separate entries", func(t *testing.T) {
		const mobileBot = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36 (compatible; Googlebot/2.1)"
		wantRendered(t, fx.crawl(f, "/variants"), "/variants")
		resp := fx.request(f, "GET", fx.host, "/variants", "User-Agent", mobileBot)
		wantRendered(t, resp, "/variants")
		if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=miss") {
			t.Fatalf("mobile after desktop: Cache-Status %q, want its own miss", cs)
		}
	})
}

func TestServePathBadInput(t *testing.T) {
	fx := newServingFixture(t)
	_, otherKey := fx.account("other@example.com", "agency")
	f := fx.f
	pr := func(path, token string) *testcluster.Response {
		t.Helper()
		return fx.request(f, "GET", "127.0.0.1", path, "X-Prerender-Token", token, "User-Agent", googlebot)
	}
	cases := []struct {
		name   string
		resp   func() *testcluster.Response
		status int
		body   string
	}{
		{"huge query string", func() *testcluster.Response { return fx.crawl(f, "/p?q="+strings.Repeat("a", 5000)) }, 400, `{"error":"URL too long"}`},
		{"unregistered host", func() *testcluster.Response {
			return fx.request(f, "GET", "nobody.example", "/", "User-Agent", googlebot)
		}, 404, `{"error":"not found"}`},
		{"prerender without token", func() *testcluster.Response { return pr("/https://www.shop.test/a", "") }, 401, `{"error":"API key required"}`},
		{"prerender with a bad token", func() *testcluster.Response { return pr("/https://www.shop.test/a", "rk_live_nope") }, 401, `{"error":"Invalid API key"}`},
		{"prerender of another account's domain", func() *testcluster.Response { return pr("/https://www.shop.test/a", otherKey) }, 404, `{"error":"Domain not found"}`},
		{"prerender of an unregistered host", func() *testcluster.Response { return pr("/https://nobody.example/a", fx.key) }, 404, `{"error":"Domain not found"}`},
		{"render without url", func() *testcluster.Response { return pr("/render", fx.key) }, 400, `{"error":"url must be an absolute http or https URL, such as https://example.com/page"}`},
		{"render of a relative url", func() *testcluster.Response { return pr("/render?url=/a", fx.key) }, 400, `{"error":"url must be an absolute http or https URL, such as https://example.com/page"}`},
		{"render of an ftp url", func() *testcluster.Response { return pr("/render?url=ftp://www.shop.test/a", fx.key) }, 400, `{"error":"url must be an absolute http or https URL, such as https://example.com/page"}`},
		{"render of a malformed url", func() *testcluster.Response { return pr("/render?url=https://%zz", fx.key) }, 400, `{"error":"url must be an absolute http or https URL, such as https://example.com/page"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { exactJSON(t, c.resp(), c.status, c.body) })
	}
	if n := fx.site.count("/a"); n != 0 {
		t.Fatalf("refused requests reached the origin %d times", n)
	}
}

func TestPrerenderCompatibleEndpoints(t *testing.T) {
	fx := newServingFixture(t)
	for _, path := range []string{"/https://www.shop.test/pr/one", "/https:/www.shop.test/pr/collapsed", "/render?url=" + "https%3A%2F%2Fwww.shop.test%2Fpr%2Ftwo"} {
		resp := fx.request(fx.f, "GET", "127.0.0.1", path, "X-Prerender-Token", fx.key, "User-Agent", googlebot)
		want := strings.TrimPrefix(strings.TrimPrefix(path, "/https://www.shop.test"), "/https:/www.shop.test")
		if strings.HasPrefix(path, "/render") {
			want = "/pr/two"
		}
		wantRendered(t, resp, want)
		// www.shop.test resolves nowhere: the page came from the domain's
		// origin.
		if n := fx.site.count(want); n != 1 {
			t.Fatalf("the origin saw %d fetches of %s, want 1", n, want)
		}
	}
}

// The HTTP caching semantics that edge gives every cache surface, as a
// crawler sees them on every node of a cluster: one answer built by the
// key's owner, with the same validators everywhere.
func TestHTTPSemanticsOnEveryNode(t *testing.T) {
	fx := newServingFixture(t)
	const path = "/big"
	first := fx.crawl(0, path)
	if first.Status != 200 || !strings.Contains(string(first.Body), "ready to write") || !strings.Contains(first.Header.Get("Cache-Status"), "fwd=miss") {
		t.Fatalf("first request: %d %q %s", first.Status, first.Header.Get("Cache-Status"), first.Body)
	}
	identity := first.Body
	etag, lastMod := first.Header.Get("Etag"), first.Header.Get("Last-Modified")
	if etag == "" || lastMod == "" || first.Header.Get("Content-Encoding") != "" {
		t.Fatalf("first request: ETag %q, Last-Modified %q, Content-Encoding %q", etag, lastMod, first.Header.Get("Content-Encoding"))
	}
	if v := first.Header.Get("Vary"); !strings.Contains(v, "Accept-Encoding") || !strings.Contains(v, "User-Agent") {
		t.Fatalf("Vary %q, want User-Agent and Accept-Encoding", v)
	}
	for i := range 3 {
		t.Run(fx.c.Name(i), func(t *testing.T) {
			t.Run("identity hit", func(t *testing.T) {
				resp := fx.crawl(i, path)
				if resp.Status != 200 || !bytes.Equal(resp.Body, identity) || resp.Header.Get("Etag") != etag {
					t.Fatalf("%d, ETag %q, %d bytes; want the first answer", resp.Status, resp.Header.Get("Etag"), len(resp.Body))
				}
				if cs := resp.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit; ttl=") || resp.Header.Get("Age") == "" {
					t.Fatalf("Cache-Status %q, Age %q", cs, resp.Header.Get("Age"))
				}
				if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(identity)) {
					t.Fatalf("Content-Length %s for %d bytes", cl, len(identity))
				}
			})
			t.Run("If-None-Match is 304", func(t *testing.T) {
				resp := fx.crawl(i, path, "If-None-Match", etag)
				if resp.Status != 304 || len(resp.Body) != 0 || resp.Header.Get("Etag") != etag {
					t.Fatalf("%d with %d bytes, ETag %q", resp.Status, len(resp.Body), resp.Header.Get("Etag"))
				}
				if resp := fx.crawl(i, path, "If-None-Match", `"something else"`); resp.Status != 200 {
					t.Fatalf("a stale ETag: %d, want 200", resp.Status)
				}
			})
			t.Run("If-Modified-Since is 304", func(t *testing.T) {
				if resp := fx.crawl(i, path, "If-Modified-Since", lastMod); resp.Status != 304 || len(resp.Body) != 0 {
					t.Fatalf("%d with %d bytes", resp.Status, len(resp.Body))
				}
			})
			for _, coding := range []string{"gzip", "br"} {
				t.Run(coding, func(t *testing.T) {
					resp := fx.crawl(i, path, "Accept-Encoding", coding)
					if resp.Status != 200 || resp.Header.Get("Content-Encoding") != coding {
						t.Fatalf("%d, Content-Encoding %q", resp.Status, resp.Header.Get("Content-Encoding"))
					}
					if len(resp.Body) >= len(identity) {
						t.Fatalf("%s body of %d bytes, identity %d", coding, len(resp.Body), len(identity))
					}
					if got := decompress(t, coding, resp.Body); !bytes.Equal(got, identity) {
						t.Fatalf("the %s body does not decompress to the identity body", coding)
					}
					// Each coding is its own representation, with its own
					// validator that 304s in turn.
					tag := resp.Header.Get("Etag")
					if tag == etag {
						t.Fatalf("the %s body has the identity ETag", coding)
					}
					if again := fx.crawl(i, path, "Accept-Encoding", coding, "If-None-Match", tag); again.Status != 304 {
						t.Fatalf("If-None-Match of the %s ETag: %d", coding, again.Status)
					}
				})
			}
			t.Run("Range is 206", func(t *testing.T) {
				resp := fx.crawl(i, path, "Range", "bytes=100-1123")
				want := fmt.Sprintf("bytes 100-1123/%d", len(identity))
				if resp.Status != 206 || resp.Header.Get("Content-Range") != want || !bytes.Equal(resp.Body, identity[100:1124]) {
					t.Fatalf("%d, Content-Range %q (want %q), %d bytes", resp.Status, resp.Header.Get("Content-Range"), want, len(resp.Body))
				}
				if resp := fx.crawl(i, path, "Range", "bytes=-10"); resp.Status != 206 || !bytes.Equal(resp.Body, identity[len(identity)-10:]) {
					t.Fatalf("suffix range: %d %q", resp.Status, resp.Body)
				}
				if resp := fx.crawl(i, path, "Range", fmt.Sprintf("bytes=%d-", len(identity))); resp.Status != 416 {
					t.Fatalf("range past the end: %d, want 416", resp.Status)
				}
			})
			t.Run("HEAD has no body", func(t *testing.T) {
				resp := fx.request(i, http.MethodHead, fx.host, path, "User-Agent", googlebot)
				if resp.Status != 200 || len(resp.Body) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(identity)) || resp.Header.Get("Etag") != etag {
					t.Fatalf("%d with %d bytes, Content-Length %q, ETag %q", resp.Status, len(resp.Body), resp.Header.Get("Content-Length"), resp.Header.Get("Etag"))
				}
			})
		})
	}
	if n := fx.site.count(path); n != 1 {
		t.Fatalf("the origin saw %d fetches of %s, want 1", n, path)
	}
}

func decompress(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", coding, err)
	}
	return out
}

// A purge returns once every live node applied it; from then on, the very
// next request on every node misses, their hot maps included: each gets
// the new render, none the purged one.
func TestPurgeMakesTheNextRequestOnEveryNodeAMiss(t *testing.T) {
	fx := newServingFixture(t)
	paths := []string{"/cheap/one", "/cheap/two"}
	// Every node holds both pages in its hot map.
	for _, p := range paths {
		fx.crawl(0, p)
		for i := range 3 {
			for range 2 {
				if resp := fx.crawl(i, p); resp.Status != 200 || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "rendercache; hit") {
					t.Fatalf("node %d %s before the purge: %d %q", i, p, resp.Status, resp.Header.Get("Cache-Status"))
				}
			}
		}
	}
	// nextOnEveryNode sends each node's next request for path at once and
	// checks that every one is a miss with generation gen's content.
	nextOnEveryNode := func(path string, gen int) {
		t.Helper()
		var wg sync.WaitGroup
		resps := make([]*testcluster.Response, 3)
		errs := make([]error, 3)
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resps[i], errs[i] = send(fx.ctx, fx.c.URL(i), "GET", fx.host, path, "User-Agent", googlebot)
			}()
		}
		wg.Wait()
		for i, resp := range resps {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if want := fmt.Sprintf("generation %d", gen); resp.Status != 200 || !strings.Contains(string(resp.Body), want) {
				t.Fatalf("node %d %s after the purge: %d without %q: %s", i, path, resp.Status, want, resp.Body)
			}
			if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=miss") {
				t.Fatalf("node %d %s after the purge: Cache-Status %q, want a miss", i, path, cs)
			}
		}
	}

	fx.site.setGen(1)
	exactJSON(t, fx.api(1, "POST", "/api/cache/purge", fx.key, map[string]string{"domain": fx.host, "path": "/cheap/one"}), 200,
		`{"message":"Cache purged","keysDeleted":1}`)
	nextOnEveryNode("/cheap/one", 1)
	// The page not purged is still a hit everywhere, with its old render.
	for i := range 3 {
		if resp := fx.crawl(i, "/cheap/two"); !strings.HasPrefix(resp.Header.Get("Cache-Status"), "rendercache; hit") || !strings.Contains(string(resp.Body), "generation 0") {
			t.Fatalf("node %d: an unpurged page: %q %s", i, resp.Header.Get("Cache-Status"), resp.Body)
		}
	}

	fx.site.setGen(2)
	if resp := fx.api(2, "POST", "/api/cache/purge", fx.key, map[string]string{"domain": fx.host}); resp.Status != 200 {
		t.Fatalf("domain purge: %s", resp)
	}
	nextOnEveryNode("/cheap/two", 2)
}

// A domain is served on every node as soon as its create returned 2xx on
// any one: a crawler's request on node 3 for a domain created on node 1 a
// moment before answers 200, never 404, whether node 3 (or the key's
// owner) has applied the create yet or not.
func TestCreatedDomainIsServedEverywhereAtOnce(t *testing.T) {
	fx := newServingFixture(t)
	_, key := fx.account("many@example.com", "enterprise")
	for i := range 50 {
		host := fmt.Sprintf("s%d.new.test", i)
		if resp := fx.api(0, "POST", "/api/domains", key, map[string]string{"domain": host, "origin": fx.site.srv.URL}); resp.Status != 201 {
			t.Fatalf("create %s: %s", host, resp)
		}
		resp := fx.request(2, "GET", host, fmt.Sprintf("/cheap/%d", i), "User-Agent", googlebot)
		if resp.Status != 200 || !strings.Contains(string(resp.Body), "cheap") {
			t.Fatalf("iteration %d: a crawler on node 3 right after the create on node 1: %d %s", i, resp.Status, resp.Body)
		}
	}
	// How often node 3 had not applied the create yet (the lookup that
	// made it wait for fresh state found the domain).
	m := fx.request(2, "GET", "127.0.0.1", "/metrics")
	for _, line := range strings.Split(string(m.Body), "\n") {
		if strings.HasPrefix(line, "rendercache_edge_fresh_lookups_total") {
			t.Log(line)
		}
	}
}
