package tenantproxy_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTenantProxy runs every case against one 3-node cluster, in order:
// later cases rely on the versions earlier ones bumped.
func TestTenantProxy(t *testing.T) {
	fx := newFixture(t)
	parent := t
	// The fixture's helpers fail the subtest that is running.
	run := func(name string, f func(*testing.T)) {
		t.Run(name, func(t *testing.T) {
			fx.t = t
			defer func() { fx.t = parent }()
			f(t)
		})
	}
	run("UnknownTenantHost404", fx.unknownHost)
	run("APITokenInjectedNeverLeaked", fx.apiToken)
	run("APIAuthModes", fx.apiAuthModes)
	run("APIOneOriginFetchFor100Concurrent", func(t *testing.T) { fx.apiConcurrent(t, "/hot", 100) })
	run("APIOneOriginFetchFor200Concurrent", func(t *testing.T) { fx.apiConcurrent(t, "/hot200", 200) })
	run("NewTenantServedOnOtherNodeAtOnce", fx.newTenantElsewhere)
	run("APIReadOnly405", fx.apiReadOnly)
	run("OverlongURL400", func(t *testing.T) {
		r := fx.get(fx.f, "GET", "/~api/search?q="+strings.Repeat("a", 9000))
		if r.Status != 400 || !strings.Contains(string(r.Body), "8192") {
			t.Fatalf("overlong URL: %s", r)
		}
	})
	run("APIPreviewBypasses", fx.apiPreview)
	run("APIVisitorAuthorizationBypassesUnlessCacheAuthorized", fx.apiVisitorAuth)
	run("APIOriginErrorNotCached", fx.apiOriginError)
	run("APIRefreshAndWebhookMissOnEveryNode", fx.apiBump)
	run("SiteHTMLAndAssetsUnderOwnVersions", fx.siteVersions)
	run("SitePrivateNoStoreSetCookieNeverCached", fx.sitePass)
	run("SiteStaleIfError", fx.staleIfError)
	run("RecreatedSlugServesNothingOfTheDeletedTenant", fx.recreatedSlug)
	run("TokenInNoLog", fx.tokenInNoLog)
}

func (fx *fixture) unknownHost(t *testing.T) {
	r := fx.getHost(fx.f, "nope.tenants.localhost", "/")
	if r.Status != 404 || !strings.Contains(string(r.Body), "error") {
		t.Fatalf("unknown tenant host: %s", r)
	}
}

func (fx *fixture) apiToken(t *testing.T) {
	r := fx.get(fx.f, "GET", "/~api/entries?b=2&a=1")
	expect(t, r, 200, "MISS", "first API request")
	if auth, _, _ := fx.api.creds(); auth != "Bearer "+token {
		t.Fatalf("origin got Authorization %q", auth)
	}
	if !strings.Contains(string(r.Body), `"path":"/entries"`) {
		t.Fatalf("body %s", r.Body)
	}
	for i := 0; i < 3; i++ {
		r = fx.get(i, "GET", "/~api/entries?a=1&b=2")
		expect(t, r, 200, "HIT", "normalised query on node "+fx.c.Name(i))
		if r.Header.Get("X-Cachely-Node") != fx.c.Name(i) || !strings.HasPrefix(r.Header.Get("X-Cachely-Version"), "api.") {
			t.Fatalf("x-cachely headers %v", r.Header)
		}
		noToken(t, r.Header, r.Body)
	}
	if n := fx.api.count("/entries"); n != 1 {
		t.Fatalf("origin fetches %d, want 1", n)
	}
}

// noToken fails if the token is anywhere in an answer.
func noToken(t *testing.T, h map[string][]string, body []byte) {
	t.Helper()
	if strings.Contains(string(body), token) {
		t.Fatalf("token in body")
	}
	for k, vs := range h {
		for _, v := range vs {
			if strings.Contains(v, token) || strings.Contains(v, url.QueryEscape(token)) {
				t.Fatalf("token in header %s", k)
			}
		}
	}
}

func (fx *fixture) apiAuthModes(t *testing.T) {
	// Each config change answers once every node applied it: the next
	// request goes to another node than the one that took it.
	fx.apiConfig("header", "X-Cms-Token")
	r := fx.get((fx.f+1)%3, "GET", "/~api/header-mode")
	expect(t, r, 200, "MISS", "header mode")
	if auth, hdr, _ := fx.api.creds(); hdr != token || auth != "" {
		t.Fatalf("header mode: origin got Authorization %q X-Cms-Token %q", auth, hdr)
	}
	noToken(t, r.Header, r.Body)
	fx.apiConfig("query", "access_token")
	r = fx.get((fx.f+2)%3, "GET", "/~api/query-mode?x=1")
	expect(t, r, 200, "MISS", "query mode")
	if _, _, q := fx.api.creds(); q != token {
		t.Fatalf("query mode: origin got access_token %q", q)
	}
	noToken(t, r.Header, r.Body)
	fx.apiConfig("none", "")
	fx.get((fx.f+1)%3, "GET", "/~api/none-mode")
	if a, h, q := fx.api.creds(); a != "" || h != "" || q != "" {
		t.Fatalf("none mode sent credentials")
	}
	fx.apiConfig("bearer", "")
}

// apiConcurrent sends n concurrent requests for one API URL, spread
// over the 3 nodes: the cluster fetches it from the origin once.
func (fx *fixture) apiConcurrent(t *testing.T, path string, n int) {
	var wg sync.WaitGroup
	errs := make(chan string, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r := fx.get(i%3, "GET", "/~api"+path+"?a=1")
			if r.Status != 200 {
				errs <- r.String()
			}
		}(i)
	}
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if got := fx.api.count(path); got != 1 {
		t.Fatalf("%d concurrent requests over 3 nodes made %d origin fetches, want 1", n, got)
	}
	t.Logf("%d concurrent misses of one API URL over 3 nodes: %d origin fetch", n, fx.api.count(path))
}

// newTenantElsewhere: a tenant created through one node is served by
// another at once (edge's fresh lookup of a host unknown locally).
func (fx *fixture) newTenantElsewhere(t *testing.T) {
	fx.mustAPI("POST", "/api/tenants", map[string]any{"slug": "beta", "cms": map[string]any{"provider": "generic"}, "websiteOrigin": fx.site.srv.URL}, 201)
	for i := 0; i < 3; i++ {
		if r := fx.getHost(i, "beta.tenants.localhost", "/welcome"); r.Status != 200 || !strings.Contains(string(r.Body), "site /welcome") {
			t.Fatalf("new tenant on node %s: %s", fx.c.Name(i), r)
		}
	}
}

func (fx *fixture) apiReadOnly(t *testing.T) {
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		r := fx.get(fx.f, m, "/~api/entries")
		if r.Status != 405 || r.Header.Get("Allow") != "GET, HEAD" {
			t.Fatalf("%s /~api/: %s Allow %q", m, r, r.Header.Get("Allow"))
		}
	}
	r := fx.get(fx.f, "HEAD", "/~api/entries?a=1&b=2")
	expect(t, r, 200, "HIT", "HEAD")
}

func (fx *fixture) apiPreview(t *testing.T) {
	before := fx.api.count("/draft")
	for i := 0; i < 3; i++ {
		r := fx.get(i, "GET", "/~api/draft?preview=true")
		expect(t, r, 200, "BYPASS", "preview query")
		r = fx.get(i, "GET", "/~api/draft", "X-Cachely-Preview", "1")
		expect(t, r, 200, "BYPASS", "preview header")
		noToken(t, r.Header, r.Body)
	}
	if n := fx.api.count("/draft") - before; n != 6 {
		t.Fatalf("previews made %d origin fetches, want 6", n)
	}
	if auth, _, _ := fx.api.creds(); auth != "Bearer "+token {
		t.Fatalf("preview: origin got Authorization %q", auth)
	}
}

// A visitor's own Authorization makes an API request theirs: it goes to
// the origin with their credentials and without the tenant's token, and
// is never answered from (or stored in) the shared cache. With
// apiCacheAuthorized, the visitor's credentials are dropped and the
// shared cache answers with the tenant's token.
func (fx *fixture) apiVisitorAuth(t *testing.T) {
	const visitor = "Bearer visitor-credential-1"
	before := fx.api.count("/mine")
	for i := 0; i < 3; i++ {
		r := fx.get(i, "GET", "/~api/mine", "Authorization", visitor)
		expect(t, r, 200, "BYPASS", "visitor's request on node "+fx.c.Name(i))
		if auth, _, _ := fx.api.creds(); auth != visitor {
			t.Fatalf("origin got Authorization %q, want the visitor's", auth)
		}
		noToken(t, r.Header, r.Body)
	}
	if n := fx.api.count("/mine") - before; n != 3 {
		t.Fatalf("visitors' requests made %d origin fetches, want 3", n)
	}
	// The shared cache does not hold what a visitor got.
	expect(t, fx.get(fx.f, "GET", "/~api/mine"), 200, "MISS", "anonymous request after the visitors'")

	fx.mustAPI("PUT", "/api/tenants/"+slug+"/api-config", map[string]any{"apiOrigin": fx.api.srv.URL, "apiAuthMode": "bearer", "apiCacheTTL": 600, "apiPreview": true, "apiCacheAuthorized": true}, 200)
	defer fx.apiConfig("bearer", "")
	r := fx.get(fx.f, "GET", "/~api/shared", "Authorization", visitor)
	expect(t, r, 200, "MISS", "cached authorised request")
	if auth, _, _ := fx.api.creds(); auth != "Bearer "+token {
		t.Fatalf("apiCacheAuthorized: origin got Authorization %q, want the tenant's token", auth)
	}
	for i := 0; i < 3; i++ {
		expect(t, fx.get(i, "GET", "/~api/shared", "Authorization", "Bearer someone-else"), 200, "HIT", "authorised request on node "+fx.c.Name(i))
	}
}

func (fx *fixture) apiOriginError(t *testing.T) {
	for i := 0; i < 3; i++ {
		if r := fx.get(i, "GET", "/~api/broken"); r.Status < 500 {
			t.Fatalf("broken origin: %s", r)
		}
	}
	if n := fx.api.count("/broken"); n < 2 {
		t.Fatalf("an origin error was cached: %d fetches", n)
	}
}

func (fx *fixture) apiBump(t *testing.T) {
	// A bump answers after every live node applied it, so the very next
	// request, on a node other than the one that took the write, misses.
	check := func(what string) {
		t.Helper()
		before := fx.api.count("/entries")
		for i := 0; i < 3; i++ {
			r := fx.get((fx.f+1+i)%3, "GET", "/~api/entries?a=1&b=2")
			state := "HIT"
			if i == 0 {
				state = "MISS"
			}
			expect(t, r, 200, state, what+" on node "+fx.c.Name((fx.f+1+i)%3))
		}
		if n := fx.api.count("/entries") - before; n != 1 {
			t.Fatalf("%s: %d origin fetches, want 1", what, n)
		}
	}
	v0 := fx.get(fx.f, "GET", "/~api/entries?a=1&b=2").Header.Get("X-Cachely-Version")
	fx.mustAPI("POST", "/api/tenants/"+slug+"/refresh-cache", map[string]string{"type": "api"}, 200)
	check("after refresh-cache")
	if v := fx.get(fx.f, "GET", "/~api/entries?a=1&b=2").Header.Get("X-Cachely-Version"); v == v0 {
		t.Fatalf("version %q did not move", v)
	}
	created := fx.mustAPI("POST", "/api/tenants/"+slug+"/cache-refresh-webhooks", map[string]string{"provider": "generic"}, 201)
	u, err := url.Parse(created["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	fx.mustAPIPublic("POST", u.Path, 200)
	check("after the cache-refresh webhook")
}

func (fx *fixture) siteVersions(t *testing.T) {
	for _, p := range []string{"/", "/about", "/app.css"} {
		expect(t, fx.get(fx.f, "GET", p), 200, "MISS", "first "+p)
		for i := 0; i < 3; i++ {
			expect(t, fx.get(i, "GET", p), 200, "HIT", p+" on node "+fx.c.Name(i))
		}
	}
	if v := fx.get(fx.f, "GET", "/about").Header.Get("X-Cachely-Version"); !strings.HasPrefix(v, "html.") {
		t.Fatalf("page version %q", v)
	}
	if v := fx.get(fx.f, "GET", "/app.css").Header.Get("X-Cachely-Version"); !strings.HasPrefix(v, "asset.") {
		t.Fatalf("asset version %q", v)
	}
	// The tenant webhook bumps HTML only: pages miss, assets hit.
	secret := fx.mustAPI("POST", "/api/tenants/"+slug+"/webhook-secret", nil, 200)["secret"].(string)
	fx.mustAPIPublic("POST", "/api/tenants/"+slug+"/webhook?secret="+secret, 200)
	// Another node than the one that answered the webhook: it has applied
	// the bump before the 200.
	expect(t, fx.get((fx.f+1)%3, "GET", "/about"), 200, "MISS", "page after the webhook")
	for i := 0; i < 3; i++ {
		expect(t, fx.get(i, "GET", "/app.css"), 200, "HIT", "asset after the webhook")
		expect(t, fx.get(i, "GET", "/about"), 200, "HIT", "page after its refill")
	}
	// refresh-cache assets: the other way round.
	fx.mustAPI("POST", "/api/tenants/"+slug+"/refresh-cache", map[string]string{"type": "assets"}, 200)
	expect(t, fx.get((fx.f+2)%3, "GET", "/app.css"), 200, "MISS", "asset after refresh assets")
	for i := 0; i < 3; i++ {
		expect(t, fx.get(i, "GET", "/about"), 200, "HIT", "page after refresh assets")
	}
	if n := fx.site.count("/about"); n != 2 {
		t.Fatalf("/about fetched %d times, want 2", n)
	}
}

func (fx *fixture) sitePass(t *testing.T) {
	for _, p := range []string{"/private", "/nostore", "/cookie"} {
		for i := 0; i < 6; i++ {
			r := fx.get(i%3, "GET", p)
			if r.Status != 200 || r.Header.Get("X-Cachely-Cache") == "HIT" {
				t.Fatalf("%s on node %s: %s (%s)", p, fx.c.Name(i), r, r.Header.Get("X-Cachely-Cache"))
			}
			if p == "/cookie" && r.Header.Get("Set-Cookie") == "" {
				t.Fatalf("a passed answer lost its Set-Cookie")
			}
		}
		// One fill finds the answer uncacheable (the group keeps only
		// that), then every request streams from the origin.
		if n := fx.site.count(p); n != 7 {
			t.Fatalf("%s: %d origin fetches for 6 requests, want 1+6 (never cached)", p, n)
		}
	}
	r := fx.get(fx.f, "POST", "/form")
	expect(t, r, 200, "BYPASS", "POST to the website")
}

func (fx *fixture) tokenInNoLog(t *testing.T) {
	if logs := fx.logs.String(); strings.Contains(logs, token) || strings.Contains(logs, url.QueryEscape(token)) {
		t.Fatal("the CMS token is in a node's log")
	}
}

// staleIfError: once a page's lifetime (max-age=1) is over and the
// origin fails, the node serves the copy it has rather than the error.
func (fx *fixture) staleIfError(t *testing.T) {
	first := fx.get(fx.f, "GET", "/short")
	expect(t, first, 200, "MISS", "first /short")
	fx.site.setBroken(true)
	defer fx.site.setBroken(false)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for fx.site.count("/short") < 2 {
		r := fx.get(fx.f, "GET", "/short")
		if r.Status != 200 || string(r.Body) != string(first.Body) {
			t.Fatalf("while the origin fails: %s, want the stale copy", r)
		}
		select {
		case <-tick.C:
		case <-fx.ctx.Done():
			t.Fatal("the page never expired")
		}
	}
	r := fx.get(fx.f, "GET", "/short")
	if r.Status != 200 || string(r.Body) != string(first.Body) {
		t.Fatalf("after the failed refetch: %s, want the stale copy", r)
	}
}

// A slug deleted and taken again is a new tenant: no node serves what the
// deleted one cached (its pages, or its API answers fetched with its
// token), even though the new tenant's versions start where the old one's
// did.
func (fx *fixture) recreatedSlug(t *testing.T) {
	const reborn = "reborn"
	rhost := reborn + ".tenants.localhost"
	origin := func(owner string) *countingOrigin {
		return newOrigin(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Cache-Control", "public, max-age=600")
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "page of %s", owner)
		})
	}
	first, second := origin("the first tenant"), origin("the second tenant")
	create := func(o *countingOrigin) {
		fx.mustAPI("POST", "/api/tenants", map[string]any{"slug": reborn, "cms": map[string]any{"provider": "generic"}, "websiteOrigin": o.srv.URL}, 201)
	}
	create(first)
	for i := 0; i < 3; i++ {
		fx.getHost(i, rhost, "/home")
	}
	if r := fx.getHost(fx.f, rhost, "/home"); r.Header.Get("X-Cachely-Cache") != "HIT" || string(r.Body) != "page of the first tenant" {
		t.Fatalf("first tenant's page not cached: %s", r)
	}
	fx.mustAPI("DELETE", "/api/tenants/"+reborn, nil, 200)
	create(second)
	for i := 0; i < 3; i++ {
		if r := fx.getHost(i, rhost, "/home"); r.Status != 200 || string(r.Body) != "page of the second tenant" {
			t.Fatalf("node %d after the slug was taken again: %s", i, r)
		}
	}
	if n := second.count("/home"); n != 1 {
		t.Fatalf("the new tenant's origin was asked %d times, want 1", n)
	}
}
