package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/testcluster"
)

// pathVersionPrefix is where domain keeps per-path purge versions
// (domain-pathver/<host>/<path>, see domain/purge.go): a path purge that
// reached raft leaves a key under it.
const pathVersionPrefix = "domain-pathver/"

// purgeState is what purges leave in a node's replicated state: the
// domain's cache version and how many per-path versions exist.
type purgeState struct {
	cacheVersion uint64
	pathVersions int
}

func (rf *renderFixture) purgeState(t *testing.T, i int) purgeState {
	t.Helper()
	st := rf.c.Node(i).State()
	d, err := domain.Lookup(st, rf.host)
	if err != nil {
		t.Fatalf("node %d: %v", i, err)
	}
	n := 0
	if err := st.Scan([]byte(pathVersionPrefix), func(_, _ []byte) error { n++; return nil }); err != nil {
		t.Fatalf("node %d: %v", i, err)
	}
	return purgeState{cacheVersion: d.CacheVersion, pathVersions: n}
}

// wantPurgeState waits until every node has applied what the cluster
// holds, then checks each node's purge state.
func (rf *renderFixture) wantPurgeState(t *testing.T, want purgeState) {
	t.Helper()
	if err := rf.c.WaitConverged(rf.ctx); err != nil {
		t.Fatal(err)
	}
	for i := range rf.c.Size() {
		if got := rf.purgeState(t, i); got != want {
			t.Fatalf("node %d purge state = %+v, want %+v", i, got, want)
		}
	}
}

// wantJSON400 checks a 400 with the documented {"error": "..."} body, and
// returns the message.
func wantJSON400(t *testing.T, resp *testcluster.Response) string {
	t.Helper()
	if resp.Status != http.StatusBadRequest {
		t.Fatalf("status = %d %.200s, want 400", resp.Status, resp.Body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	body := resp.JSON()
	msg, _ := body["error"].(string)
	if msg == "" || len(body) != 1 {
		t.Fatalf("body %.200s is not {\"error\": \"...\"}", resp.Body)
	}
	return msg
}

// TestBadPathsAre400AndNeverReachRaft sends paths and URLs that are too
// long, hold NUL or CR/LF (raw or escaped) or bad escapes to every route
// that takes one — purge, refresh, refresh-all, warm, the Script API and
// the webhook refresh — and the crawler's serve path: each answers 400
// with a JSON error, and no node's state records a purge.
func TestBadPathsAre400AndNeverReachRaft(t *testing.T) {
	rf := newRenderFixture(t)
	f := rf.f
	// A script key of the account that owns the domain.
	resp, err := rf.c.Do(rf.ctx, f, "POST", "/admin/accounts/"+rf.acct+"/api-keys", map[string]any{"name": "script", "roles": []string{"script"}})
	if err != nil || resp.Status != 201 {
		t.Fatalf("script key: %v %v", resp, err)
	}
	scriptKey := resp.JSON()["key"].(string)
	resp = rf.do(f, "POST", "/api/domains/www.shop.test/webhook-tokens", rf.key, map[string]string{"name": "cms"})
	if resp.Status != 201 {
		t.Fatalf("token: %d %s", resp.Status, resp.Body)
	}
	token := resp.JSON()["token"].(string)
	before := rf.purgeState(t, f)

	bad := []struct{ name, path, want string }{
		{"900 KB path", "/" + strings.Repeat("a", 900<<10), "path too long: at most 2048 bytes"},
		{"NUL", "/a\x00b", "invalid path: control characters (such as NUL, CR or LF) are not allowed"},
		{"CR LF", "/a\r\nX-Injected: 1", "invalid path: control characters (such as NUL, CR or LF) are not allowed"},
		{"escaped NUL", "/a%00b", "invalid path: control characters (such as NUL, CR or LF) are not allowed"},
		{"escaped CR LF", "/a%0D%0Ab", "invalid path: control characters (such as NUL, CR or LF) are not allowed"},
		{"bad escape", "/a%zzb", `invalid path: "%zz" is not a valid percent-escape (% and two hexadecimal digits)`},
	}
	script := func(body any) *testcluster.Response {
		t.Helper()
		resp, err := doWith(rf.ctx, rf.c.URL(f), "POST", "/script/invalidate-cache", map[string]string{"X-API-KEY": scriptKey}, body)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	hook := func(body any) *testcluster.Response {
		t.Helper()
		resp, err := doWith(rf.ctx, rf.c.URL(f), "POST", "/api/webhook/refresh", map[string]string{"Authorization": "Bearer " + token}, body)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	routes := []struct {
		name string
		call func(path string) *testcluster.Response
	}{
		{"purge", func(p string) *testcluster.Response {
			return rf.do(f, "POST", "/api/cache/purge", rf.key, map[string]any{"domain": rf.host, "path": p})
		}},
		{"refresh", func(p string) *testcluster.Response {
			return rf.do(f, "POST", "/api/cache/refresh", rf.key, map[string]any{"domain": rf.host, "paths": []string{"/fine", p}})
		}},
		{"refresh-all", func(p string) *testcluster.Response {
			return rf.do(f, "POST", "/api/cache/refresh-all", rf.key, map[string]any{"paths": []string{p}})
		}},
		{"warm", func(p string) *testcluster.Response {
			return rf.do(f, "POST", "/api/cache/warm", rf.key, map[string]any{"domain": rf.host, "sitemap": "https://" + rf.host + p})
		}},
		{"script", func(p string) *testcluster.Response {
			return script(map[string]string{"key": "render:" + rf.host + ":" + p})
		}},
		{"script internal key", func(p string) *testcluster.Response {
			return script(map[string]string{"key": "render/" + rf.host + "/1/desktop" + p})
		}},
		{"webhook path", func(p string) *testcluster.Response { return hook(map[string]any{"urls": []string{p}}) }},
		{"webhook URL", func(p string) *testcluster.Response {
			return hook(map[string]any{"urls": []string{"https://" + rf.host + p}})
		}},
	}
	for _, r := range routes {
		for _, b := range bad {
			if strings.HasPrefix(r.name, "webhook") && b.name != "900 KB path" && b.name != "NUL" && b.name != "CR LF" {
				continue // 10 webhook calls an hour: the raw cases are enough
			}
			t.Run(r.name+"/"+b.name, func(t *testing.T) {
				if msg := wantJSON400(t, r.call(b.path)); msg != b.want {
					t.Fatalf("error = %q, want %q", msg, b.want)
				}
			})
		}
	}

	// Bounds on the number of paths, and URLs on other hosts.
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("/p%d", i)
	}
	others := []struct {
		name string
		resp func() *testcluster.Response
		want string
	}{
		{"refresh of 1001 paths", func() *testcluster.Response {
			return rf.do(f, "POST", "/api/cache/refresh", rf.key, map[string]any{"domain": rf.host, "paths": many})
		}, "at most 1000 paths per request"},
		{"refresh-all of 1001 paths", func() *testcluster.Response {
			return rf.do(f, "POST", "/api/cache/refresh-all", rf.key, map[string]any{"paths": many})
		}, "at most 1000 paths per request"},
		{"webhook of 1001 URLs", func() *testcluster.Response { return hook(map[string]any{"urls": many}) }, "at most 1000 paths per request"},
		{"webhook URL on another host", func() *testcluster.Response {
			return hook(map[string]any{"urls": []string{"https://elsewhere.example/a"}})
		}, `each URL must be a path starting with "/" or an http(s) URL on the domain`},
		{"purge of a relative path", func() *testcluster.Response {
			return rf.do(f, "POST", "/api/cache/purge", rf.key, map[string]any{"domain": rf.host, "path": ""})
		}, `each path must start with "/"`},
		{"script key with a relative path", func() *testcluster.Response {
			return script(map[string]string{"key": "render:" + rf.host + ":about"})
		}, "invalid cache key: expected render:<domain>:<path>, render:<domain> or render/<domain>/<version>/<variant>/<path>"},
	}
	for _, o := range others {
		t.Run(o.name, func(t *testing.T) {
			if msg := wantJSON400(t, o.resp()); msg != o.want {
				t.Fatalf("error = %q, want %q", msg, o.want)
			}
		})
	}

	// A crawler's request for such a path is a client error too, not a
	// failed render, and never reaches the origin.
	for _, c := range []struct{ name, path, want string }{
		{"escaped NUL", "/a%00b", "invalid path: control characters (such as NUL, CR or LF) are not allowed"},
		{"escaped CR LF", "/a%0d%0Ab", "invalid path: control characters (such as NUL, CR or LF) are not allowed"},
		{"escaped DEL", "/a%7Fb", "invalid path: control characters (such as NUL, CR or LF) are not allowed"},
		{"long path", "/" + strings.Repeat("a", 2048), "path too long: at most 2048 bytes"},
	} {
		t.Run("crawler/"+c.name, func(t *testing.T) {
			if msg := wantJSON400(t, rf.crawl(f, c.path)); msg != c.want {
				t.Fatalf("error = %q, want %q", msg, c.want)
			}
		})
	}
	// So is the prerender-compatible form of the same URL.
	resp, err = doWith(rf.ctx, rf.c.URL(f), "GET", "/https://"+rf.host+"/a%00b", map[string]string{"X-Prerender-Token": rf.key, "User-Agent": googlebot}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON400(t, resp)
	if n := rf.site.count("/a\x00b") + rf.site.count("/a\r\nb") + rf.site.count("/a\x7fb"); n != 0 {
		t.Fatalf("refused paths reached the origin %d times", n)
	}

	// Nothing reached raft: no node recorded a purge. A good purge after
	// them is recorded everywhere, which shows that the probe would see one.
	rf.wantPurgeState(t, before)
	if resp := rf.do(f, "POST", "/api/cache/purge", rf.key, map[string]any{"domain": rf.host, "path": "/fine"}); resp.Status != 200 {
		t.Fatalf("good purge: %d %s", resp.Status, resp.Body)
	}
	rf.wantPurgeState(t, purgeState{cacheVersion: before.cacheVersion, pathVersions: before.pathVersions + 1})
}

// TestPathsAreNormalisedAlikeOnEveryRoute shows that the serve path and a
// purge name a page the same way, whatever dot segments or escapes were
// sent, and that origins are stored normalised.
func TestPathsAreNormalisedAlikeOnEveryRoute(t *testing.T) {
	rf := newRenderFixture(t)
	f := rf.f
	// Dot segments never climb out of the site: the crawler's /x/../dots is
	// the page /dots, rendered from the origin's /dots.
	resp := rf.crawl(f, "/x/%2e%2E/dots")
	wantRendered(t, resp, "/dots")
	if n := rf.site.count("/dots"); n == 0 {
		t.Fatal("the origin never saw /dots")
	}
	if cs := rf.crawl(0, "/dots").Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit") {
		t.Fatalf("/dots after /x/%%2e%%2E/dots: Cache-Status %q, want a hit on the same key", cs)
	}
	// A purge of the same page spelt differently purges that key.
	if resp := rf.do(f, "POST", "/api/cache/purge", rf.key, map[string]any{"domain": rf.host, "path": "/y/./../%64ots?utm_source=x"}); resp.Status != 200 {
		t.Fatalf("purge: %d %s", resp.Status, resp.Body)
	}
	if err := rf.c.WaitConverged(rf.ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := domain.PathVersion(rf.c.Node(0).State(), rf.host, "/dots"); err != nil || v != 1 {
		t.Fatalf("path version of /dots = %d, %v; want 1", v, err)
	}
	if cs := rf.crawl(0, "/dots").Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=miss") {
		t.Fatalf("/dots after its purge: Cache-Status %q, want a miss", cs)
	}

	// Origins: dot segments removed, escaped control characters refused.
	resp = rf.do(f, "POST", "/api/domains", rf.key, map[string]string{"domain": "dots.shop.test", "origin": rf.site.srv.URL + "/base/../.."})
	if resp.Status != 201 || resp.JSON()["origin"] != rf.site.srv.URL {
		t.Fatalf("origin with dot segments: %d %s, want 201 with origin %s", resp.Status, resp.Body, rf.site.srv.URL)
	}
	for _, o := range []string{"/%00", "/a%0d%0ab", "/%zz"} {
		msg := wantJSON400(t, rf.do(f, "POST", "/api/domains", rf.key, map[string]string{"domain": "nul.shop.test", "origin": rf.site.srv.URL + o}))
		if !strings.HasPrefix(msg, "invalid origin: ") {
			t.Fatalf("origin %q: error %q", o, msg)
		}
	}
}
