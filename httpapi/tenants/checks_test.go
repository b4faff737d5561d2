package tenants_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/dnstest"
	"github.com/rendercache/rendercache/testcluster"
)

// TestImplementationChecks runs both checks against a 3-node cluster
// through a follower: every cachely-check state on real tenant hosts and
// custom domains (a DNS server on 127.0.0.1 answers their TXT and A
// records), and the website check's statuses.
func TestImplementationChecks(t *testing.T) {
	zone := dnstest.Start(t)
	logs := &lockedBuffer{}
	c := testcluster.New(t, 3, testcluster.Options{
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		DNSResolver: zone.Addr,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	l, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, c: c, ctx: ctx, logs: logs, f: (l + 1) % 3, g: (l + 2) % 3}
	ck := &checks{fx: fx, zone: zone, own: fx.account(t, "checker@seed.test", "agency")}
	t.Run("CachelyImplementedPreview", ck.implementedPreview)
	t.Run("CachelyNeedsAttention", ck.needsAttention)
	t.Run("CachelyNotEnabled", ck.notEnabled)
	t.Run("CachelyNotDetectedCustomDomain", ck.notDetected)
	t.Run("CachelyImplementedProduction", ck.implementedProduction)
	t.Run("WebsiteCheck", ck.website)
	t.Run("Access", ck.access)
}

type checks struct {
	fx   *fixture
	zone *dnstest.Server
	own  user
}

// siteOrigin is a website origin whose answers' Cache-Control, cookie
// and status can change.
type siteOrigin struct {
	srv *httptest.Server
	cur atomic.Pointer[originAnswer]
}

type originAnswer struct {
	cacheControl string
	cookie       bool
	status       int
}

func origin(t *testing.T, cacheControl string, body string) *siteOrigin {
	o := &siteOrigin{}
	o.set(originAnswer{cacheControl: cacheControl, status: 200})
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := o.cur.Load()
		w.Header().Set("Cache-Control", a.cacheControl)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if a.cookie {
			w.Header().Set("Set-Cookie", "session=1; Path=/")
		}
		w.WriteHeader(a.status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *siteOrigin) set(a originAnswer) { o.cur.Store(&a) }

// tenant creates slug with fields.
func (ck *checks) tenant(t *testing.T, slug string, fields map[string]any) {
	body := map[string]any{"slug": slug, "cms": map[string]any{"provider": "contentful"}}
	for k, v := range fields {
		body[k] = v
	}
	want(t, ck.fx.do(t, ck.fx.g, ck.own, "POST", "/api/tenants", body), 201, "create "+slug)
}

// check runs cachely-check on the follower f.
func (ck *checks) check(t *testing.T, slug string) map[string]any {
	t.Helper()
	return want(t, ck.fx.do(t, ck.fx.f, ck.own, "POST", "/api/tenants/"+slug+"/cachely-check", nil), 200, "cachely-check "+slug)
}

// item returns the report's item id.
func item(t *testing.T, r map[string]any, id string) map[string]any {
	t.Helper()
	for _, it := range r["items"].([]any) {
		if m := it.(map[string]any); m["id"] == id {
			return m
		}
	}
	t.Fatalf("no item %q in %v", id, r["items"])
	return nil
}

func probes(r map[string]any) []map[string]any {
	var out []map[string]any
	for _, p := range r["probes"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

// port is node i's public port: probe URLs take it when there is no
// --public-url.
func (ck *checks) port(i int) string {
	u, _ := url.Parse(ck.fx.c.URL(i))
	return u.Port()
}

func (ck *checks) implementedPreview(t *testing.T) {
	o := origin(t, "public, max-age=600", "<h1>shop</h1>")
	ck.tenant(t, "shop", map[string]any{"websiteOrigin": o.srv.URL})
	for range 2 {
		stored := want(t, ck.fx.do(t, ck.fx.g, ck.own, "GET", "/api/tenants/shop", nil), 200, "get")
		version := fmt.Sprintf("html.%v", stored["value"].(map[string]any)["versions"].(map[string]any)["htmlCacheVersion"])
		r := ck.check(t, "shop")
		wantURL := "http://shop.tenants.localhost:" + ck.port(ck.fx.f) + "/"
		if r["state"] != "implemented" || r["surfaceLabel"] != "preview" || r["probeUrl"] != wantURL {
			t.Fatalf("%s: %v", version, r)
		}
		ps := probes(r)
		if len(ps) != 2 || ps[1]["cache"] != "HIT" || ps[1]["version"] != version || ps[1]["node"] != ck.fx.c.Name(ck.fx.f) {
			t.Fatalf("probes %v, want the second a HIT of %s from %s", ps, version, ck.fx.c.Name(ck.fx.f))
		}
		for _, id := range []string{"website_proxy", "edge_headers", "edge_cache", "html_version"} {
			if it := item(t, r, id); it["state"] != "implemented" {
				t.Fatalf("item %s: %v", id, it)
			}
		}
		if it := item(t, r, "custom_domain"); it["state"] != "not_enabled" {
			t.Fatalf("custom_domain: %v", it)
		}
		// A bump: the next check must compare with the new version.
		want(t, ck.fx.do(t, ck.fx.g, ck.own, "POST", "/api/tenants/shop/refresh-cache", map[string]string{"type": "html"}), 200, "refresh")
	}
}

func (ck *checks) needsAttention(t *testing.T) {
	o := origin(t, "no-store", "<h1>dynamic</h1>")
	ck.tenant(t, "dyn", map[string]any{"websiteOrigin": o.srv.URL, "apiOrigin": o.srv.URL})
	for _, tc := range []struct {
		answer       originAnswer
		cache, cause string
	}{
		{originAnswer{cacheControl: "no-store", status: 200}, "BYPASS", "no-store"},
		{originAnswer{cacheControl: "private, max-age=600", status: 200}, "BYPASS", "private, max-age=600"},
		{originAnswer{cacheControl: "public, max-age=600", cookie: true, status: 200}, "BYPASS", "cookie"},
	} {
		o.set(tc.answer)
		r := ck.check(t, "dyn")
		if r["state"] != "active_needs_attention" || r["surfaceLabel"] != "preview" {
			t.Fatalf("%+v: %v", tc.answer, r)
		}
		for _, p := range probes(r) {
			if p["cache"] != tc.cache || p["cacheControl"] != tc.answer.cacheControl || p["setCookie"] != tc.answer.cookie {
				t.Fatalf("%+v: probe %v", tc.answer, p)
			}
		}
		if it := item(t, r, "edge_headers"); it["state"] != "implemented" {
			t.Fatalf("edge_headers: %v", it)
		}
		if it := item(t, r, "edge_cache"); it["state"] != "active_needs_attention" || !strings.Contains(it["detail"].(string), tc.cause) {
			t.Fatalf("edge_cache: %v", it)
		}
	}
	// Served, but an error page.
	o.set(originAnswer{cacheControl: "public, max-age=600", status: 404})
	r := ck.check(t, "dyn")
	if ps := probes(r); r["state"] != "active_needs_attention" || ps[1]["status"] != 404.0 || ps[1]["cache"] == "" || !strings.Contains(r["headline"].(string), "404") {
		t.Fatalf("404: %v", r)
	}
	// The API proxy row is configuration only: an origin without a token
	// in bearer mode needs one.
	want(t, ck.fx.do(t, ck.fx.g, ck.own, "PUT", "/api/tenants/dyn/api-config", map[string]any{"apiOrigin": o.srv.URL, "apiAuthMode": "bearer", "apiCacheTTL": 60}), 200, "api-config")
	if it := item(t, ck.check(t, "dyn"), "api_proxy"); it["state"] != "active_needs_attention" || !strings.Contains(it["detail"].(string), "API Proxy test") {
		t.Fatalf("api_proxy: %v", it)
	}
}

func (ck *checks) notEnabled(t *testing.T) {
	o := origin(t, "public, max-age=60", "{}")
	ck.tenant(t, "apionly", map[string]any{"apiOrigin": o.srv.URL})
	r := ck.check(t, "apionly")
	if r["state"] != "not_enabled" || r["probeUrl"] != nil || r["surfaceLabel"] != nil || len(probes(r)) != 0 {
		t.Fatalf("%v", r)
	}
	if it := item(t, r, "api_proxy"); it["state"] != "implemented" {
		t.Fatalf("api_proxy: %v", it)
	}
	if it := item(t, r, "website_proxy"); it["state"] != "not_enabled" {
		t.Fatalf("website_proxy: %v", it)
	}
}

// activate adds hostname to slug and verifies it through the zone.
func (ck *checks) activate(t *testing.T, slug, hostname, ip string) {
	d := want(t, ck.fx.do(t, ck.fx.g, ck.own, "POST", "/api/tenants/"+slug+"/domains", map[string]string{"hostname": hostname}), 201, "add domain")
	v := d["verification"].(map[string]any)
	ck.zone.SetTXT(v["name"].(string), v["value"].(string))
	ck.zone.SetA(hostname, ip)
	got := want(t, ck.fx.do(t, ck.fx.f, ck.own, "POST", "/api/tenants/"+slug+"/domains/verify", map[string]string{"hostname": hostname}), 200, "verify")
	if got["status"] != "active" {
		t.Fatalf("verify: %v", got)
	}
}

// notDetected: the custom domain resolves to a server that is not the
// cluster (on 127.0.0.2, at the port probes use); its generic x-cache
// does not count.
func (ck *checks) notDetected(t *testing.T) {
	o := origin(t, "public, max-age=600", "<h1>plain</h1>")
	ck.tenant(t, "plain", map[string]any{"websiteOrigin": o.srv.URL})
	plain := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<h1>elsewhere</h1>")
	}), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.2:"+ck.port(ck.fx.f))
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2 (needed to stand for another server at the cluster's port): %v", err)
	}
	go plain.Serve(ln)
	t.Cleanup(func() { plain.Close() })
	ck.activate(t, "plain", "www.plain.test", "127.0.0.2")
	r := ck.check(t, "plain")
	if r["state"] != "not_detected" || r["surfaceLabel"] != "production" || r["probeUrl"] != "http://www.plain.test:"+ck.port(ck.fx.f)+"/" {
		t.Fatalf("%v", r)
	}
	for _, p := range probes(r) {
		if p["status"] != 200.0 || p["xCache"] != "HIT" || p["cache"] != "" {
			t.Fatalf("probe %v", p)
		}
	}
	if !strings.Contains(r["headline"].(string), "x-cache") {
		t.Fatalf("headline does not say why x-cache is not proof: %q", r["headline"])
	}
	if it := item(t, r, "custom_domain"); it["state"] != "implemented" {
		t.Fatalf("custom_domain: %v", it)
	}
	// A custom domain that does not resolve at all.
	ck.zone.Remove("www.plain.test")
	r = ck.check(t, "plain")
	if r["state"] != "not_detected" || probes(r)[0]["error"] != "the host does not resolve" {
		t.Fatalf("unresolvable: %v", r)
	}
}

// implementedProduction: the custom domain resolves to the cluster.
func (ck *checks) implementedProduction(t *testing.T) {
	o := origin(t, "public, max-age=600", "<h1>prod</h1>")
	ck.tenant(t, "prod", map[string]any{"websiteOrigin": o.srv.URL})
	ck.activate(t, "prod", "www.prod.test", "127.0.0.1")
	r := ck.check(t, "prod")
	if r["state"] != "implemented" || r["surfaceLabel"] != "production" || r["probeUrl"] != "http://www.prod.test:"+ck.port(ck.fx.f)+"/" {
		t.Fatalf("%v", r)
	}
	if ps := probes(r); ps[1]["cache"] != "HIT" {
		t.Fatalf("probes %v", ps)
	}
	// The website check of the custom domain, served by the cluster: the
	// page's own x-cachely-cache is the signal.
	r = want(t, ck.fx.do(t, ck.fx.f, ck.own, "POST", "/api/tenants/prod/website-implementation-check", map[string]string{"url": r["probeUrl"].(string)}), 200, "site check")
	if a := r["analysis"].(map[string]any); r["ok"] != true || a["verdictState"] != "implemented" || a["cachelySignals"].([]any)[0].(map[string]any)["kind"] != "edge_header" {
		t.Fatalf("site check of the custom domain: %v", r)
	}
}

func (ck *checks) website(t *testing.T) {
	pages := map[string]string{
		"/uses":   `<!doctype html><html><body><img src="https://shop.tenants.localhost/~api/assets/a.png"></body></html>`,
		"/direct": `<!doctype html><html><body><div id="__next"></div><img src="https://images.ctfassets.net/sp/a.jpg"></body></html>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".json") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"a":1}`)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, pages[r.URL.Path])
	}))
	t.Cleanup(srv.Close)
	path := "/api/tenants/shop/website-implementation-check"
	f, g := ck.fx.f, ck.fx.g
	r := want(t, ck.fx.do(t, f, ck.own, "POST", path, map[string]string{"url": srv.URL + "/uses"}), 200, "uses")
	a := r["analysis"].(map[string]any)
	if r["ok"] != true || r["platform"] != "unknown" || a["verdictState"] != "implemented" || a["cachelyUsage"] != "detected" || a["cmsLabel"] != "Contentful" {
		t.Fatalf("uses: %v", r)
	}
	r = want(t, ck.fx.do(t, g, ck.own, "POST", path, map[string]string{"url": srv.URL + "/direct"}), 200, "direct")
	a = r["analysis"].(map[string]any)
	if r["ok"] != true || r["platform"] != "nextjs" || a["verdictState"] != "not_using" || a["directCmsUsage"] != "detected" {
		t.Fatalf("direct: %v", r)
	}
	for _, tc := range []struct{ url, code string }{
		{"https://shop.tenants.localhost/", "product_domain"},
		{"https://z.cdn.localhost/", "product_domain"},
		{"ftp://example.com", "invalid_url"},
		{"http://" + closedAddr(t) + "/", "fetch_failed"},
		{srv.URL + "/data.json", "not_html"},
	} {
		r := want(t, ck.fx.do(t, f, ck.own, "POST", path, map[string]string{"url": tc.url}), 200, tc.url)
		if r["ok"] != false || r["error"] != tc.code || r["message"] == "" {
			t.Fatalf("%s: %v, want %s", tc.url, r, tc.code)
		}
	}
	for name, body := range map[string]any{"empty object": map[string]any{}, "number": `{"url":5}`, "not JSON": `url=x`,
		"unknown field": map[string]any{"url": srv.URL, "x": 1}, "too long": map[string]string{"url": "https://a.com/" + strings.Repeat("a", 2100)}} {
		want(t, ck.fx.do(t, f, ck.own, "POST", path, body), 400, name)
	}
}

// access: any member may run the checks; others get 404, as for an
// unknown tenant.
func (ck *checks) access(t *testing.T) {
	other := ck.fx.account(t, "other@seed.test", "pro")
	for _, p := range []string{"/api/tenants/shop/cachely-check", "/api/tenants/nope/cachely-check"} {
		want(t, ck.fx.do(t, ck.fx.f, other, "POST", p, nil), 404, p)
	}
	want(t, ck.fx.do(t, ck.fx.f, other, "POST", "/api/tenants/shop/website-implementation-check", map[string]string{"url": "https://example.com"}), 404, "other's site check")
	want(t, ck.fx.do(t, ck.fx.f, user{}, "POST", "/api/tenants/shop/cachely-check", nil), 401, "no key")
	want(t, ck.fx.do(t, ck.fx.g, ck.fx.operator(), "POST", "/api/tenants/apionly/cachely-check", nil), 200, "operator")
}

// closedAddr is a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
