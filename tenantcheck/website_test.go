package tenantcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/tenant"
)

// pages are fixture sites: path → headers and HTML.
type page struct {
	header map[string]string
	body   string
}

// site serves pages on 127.0.0.1; an unknown path is 404.
func site(t *testing.T, pages map[string]page) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		for k, v := range p.header {
			w.Header().Set(k, v)
		}
		w.Write([]byte(p.body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newChecker(t *testing.T, policy origin.Policy, mod func(*Config)) *Checker {
	cfg := Config{TenantDomain: "tenants.localhost", ProductDomains: []string{"cdn.localhost"}, Policy: policy,
		Self: func() string { return "127.0.0.1:1" }}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func html5(head, body string) string {
	return "<!doctype html><html><head>" + head + "</head><body>" + body + "</body></html>"
}

var contentful = tenant.Tenant{Slug: "acme", CMS: tenant.CMS{Provider: "contentful"}}

func TestWebsitePlatforms(t *testing.T) {
	pages := map[string]page{
		"/webflow":   {body: `<!doctype html><html data-wf-site="5f1" data-wf-page="5f2"><head><link href="https://cdn.prod.website-files.com/5f1/css/site.css" rel="stylesheet"></head><body></body></html>`},
		"/nextjs":    {body: html5(`<link rel="preload" href="/_next/static/css/app.css" as="style">`, `<div id="__next"><h1>Hi</h1></div><script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{}}}</script>`)},
		"/nextapp":   {body: html5(``, `<main>Hi</main><script>(self.__next_f=self.__next_f||[]).push([0])</script>`)},
		"/nuxt":      {body: html5(``, `<div id="__nuxt"></div><script>window.__NUXT__={state:{}}</script><script src="/_nuxt/entry.js" type="module"></script>`)},
		"/gatsby":    {body: html5(`<meta name="generator" content="Gatsby 5.12.0">`, `<div id="___gatsby"><div id="gatsby-focus-wrapper"></div></div>`)},
		"/wordpress": {body: html5(`<meta name="generator" content="WordPress 6.4.2"><link rel="stylesheet" href="/wp-content/themes/astra/style.css">`, `<p>Blog</p>`)},
		"/shopify":   {body: html5(`<script src="https://cdn.shopify.com/s/files/1/0/t/1/assets/theme.js" defer></script>`, `<script>Shopify.theme = {"name":"Dawn"};</script>`)},
		"/framer":    {body: html5(`<meta name="generator" content="Framer 3f2c1e5">`, `<div data-framer-root><img src="https://framerusercontent.com/images/a.png"></div>`)},
		"/plain":     {body: html5(`<title>Plain</title>`, `<h1>Hello</h1>`)},
	}
	srv := site(t, pages)
	c := newChecker(t, origin.Policy{AllowPrivate: true}, nil)
	want := map[string]string{"/webflow": Webflow, "/nextjs": NextJS, "/nextapp": NextJS, "/nuxt": Nuxt, "/gatsby": Gatsby,
		"/wordpress": WordPress, "/shopify": Shopify, "/framer": Framer, "/plain": Unknown}
	for path, platform := range want {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			r := c.Website(context.Background(), contentful, srv.URL+path)
			if !r.OK || r.Platform != platform {
				t.Fatalf("%s: ok %v platform %q (%s %s), want %q", path, r.OK, r.Platform, r.Error, r.Message, platform)
			}
			if *r.FinalURL != srv.URL+path {
				t.Fatalf("finalUrl %q", *r.FinalURL)
			}
		})
	}
}

func TestWebsiteVerdicts(t *testing.T) {
	api := site(t, map[string]page{})
	strapi := tenant.Tenant{Slug: "blog", CMS: tenant.CMS{Provider: "strapi"}, APIOrigin: api.URL}
	sanity := tenant.Tenant{Slug: "acme", CMS: tenant.CMS{Provider: "sanity"}}
	apiHost := strings.TrimPrefix(api.URL, "http://")
	pages := map[string]page{
		"/tenant-host": {body: html5(``, `<img src="https://acme.tenants.localhost/~api/assets/hero.png" alt="">`)},
		"/api-path":    {body: html5(``, `<script>fetch("/~api/spaces/abc/entries").then(r => r.json())</script>`)},
		"/sdk":         {body: html5(`<script type="module" src="https://unpkg.com/@cachely-io/sdk@1/dist/index.js"></script>`, ``)},
		"/mixed":       {body: html5(``, `<img src="https://acme.tenants.localhost/~api/a.png"><img srcset="https://images.ctfassets.net/sp/a/b/c.jpg 1x, https://images.ctfassets.net/sp/a/b/d.jpg 2x">`)},
		"/direct-css":  {body: html5(``, `<div style="background-image: url('https://images.ctfassets.net/sp/bg.jpg')"></div>`)},
		"/direct-link": {body: html5(`<link rel="preconnect" href="https://cdn.contentful.com">`, `<p>x</p>`)},
		"/link-header": {header: map[string]string{"Link": `<https://images.ctfassets.net/sp/hero.jpg>; rel=preload; as=image`}, body: html5(``, `<p>x</p>`)},
		"/style-tag":   {body: html5(`<style>.hero{background:url(https://images.ctfassets.net/sp/h.jpg)}</style>`, ``)},
		"/ssr":         {body: html5(``, `<div id="__next"><h1>Rendered</h1></div><script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{"title":"Rendered"}}}</script>`)},
		"/ssr-data":    {body: html5(``, `<div id="__next"></div><script id="__NEXT_DATA__" type="application/json">{"props":{"img":"https:\/\/images.ctfassets.net\/sp\/x.jpg"}}</script>`)},
		"/csp":         {header: map[string]string{"Content-Security-Policy": "default-src 'self'; img-src 'self' https://images.ctfassets.net"}, body: html5(``, `<div id="__nuxt"></div>`)},
		"/anchor":      {body: html5(``, `<a href="https://images.ctfassets.net/sp/press-kit.zip">Press kit</a>`)},
		"/plain":       {body: html5(``, `<h1>Static</h1>`)},
		"/sanity":      {body: html5(``, `<img src="https://cdn.sanity.io/images/p1/production/a.jpg"><script>const c = "https://p1.api.sanity.io/v2021-10-21/data/query"</script>`)},
		"/sanity-data": {body: html5(`<meta name="generator" content="Gatsby 5">`, `<script>window.q="https://p1.api.sanity.io/v1/data/query"</script>`)},
		"/strapi":      {body: html5(``, `<img src="http://`+apiHost+`/uploads/a.png">`)},
	}
	srv := site(t, pages)
	c := newChecker(t, origin.Policy{AllowPrivate: true}, nil)
	cases := []struct {
		name, path            string
		t                     tenant.Tenant
		verdict, cachely, cms string
		signal                string // a cachely signal kind, or a direct-CMS match that must be surfaced
	}{
		{"TenantHost", "/tenant-host", contentful, Implemented, Detected, NotDetected, kindTenantHost},
		{"APIPath", "/api-path", contentful, Implemented, Detected, NotDetected, kindAPIPath},
		{"SDK", "/sdk", contentful, Implemented, Detected, NotDetected, kindSDK},
		{"Mixed", "/mixed", contentful, Mixed, Detected, Detected, "https://images.ctfassets.net/sp/a/b/c.jpg"},
		{"DirectCSSAttribute", "/direct-css", contentful, NotUsing, NotDetected, Detected, "https://images.ctfassets.net/sp/bg.jpg"},
		{"DirectLink", "/direct-link", contentful, NotUsing, NotDetected, Detected, "https://cdn.contentful.com"},
		{"DirectLinkHeader", "/link-header", contentful, NotUsing, NotDetected, Detected, "https://images.ctfassets.net/sp/hero.jpg"},
		{"DirectStyleTag", "/style-tag", contentful, NotUsing, NotDetected, Detected, "https://images.ctfassets.net/sp/h.jpg"},
		{"SSRNoSignals", "/ssr", contentful, Inconclusive, Inconclusive, NotDetected, ""},
		{"SSRSerialisedData", "/ssr-data", contentful, Inconclusive, Inconclusive, Potential, "https://images.ctfassets.net/sp/x.jpg"},
		{"CSPOnly", "/csp", contentful, Inconclusive, Inconclusive, Potential, "https://images.ctfassets.net"},
		{"AnchorIsNotAResource", "/anchor", contentful, NotUsing, NotDetected, Potential, "https://images.ctfassets.net/sp/press-kit.zip"},
		{"StaticNoSignals", "/plain", contentful, NotUsing, NotDetected, NotDetected, ""},
		{"SanityDirect", "/sanity", sanity, NotUsing, NotDetected, Detected, "https://cdn.sanity.io/images/p1/production/a.jpg"},
		{"SanityInlineScript", "/sanity-data", sanity, Inconclusive, Inconclusive, Potential, "https://p1.api.sanity.io/v1/data/query"},
		{"StrapiAPIOrigin", "/strapi", strapi, NotUsing, NotDetected, Detected, "http://" + apiHost + "/uploads/a.png"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Website(context.Background(), tc.t, srv.URL+tc.path)
			if !r.OK {
				t.Fatalf("not ok: %s %s", r.Error, r.Message)
			}
			a := r.Analysis
			if a.VerdictState != tc.verdict || a.CachelyUsage != tc.cachely || a.DirectCMSUsage != tc.cms {
				t.Fatalf("verdict %s cachely %s cms %s, want %s %s %s (%+v)", a.VerdictState, a.CachelyUsage, a.DirectCMSUsage, tc.verdict, tc.cachely, tc.cms, a)
			}
			if a.Verdict == "" || a.CMSLabel == "" {
				t.Fatalf("empty verdict or label: %+v", a)
			}
			if tc.signal == "" {
				if len(a.CachelySignals)+len(a.DirectCMSSignals) != 0 {
					t.Fatalf("signals on a page without any: %+v", a)
				}
				return
			}
			if !hasSignal(a.CachelySignals, tc.signal) && !hasSignal(a.DirectCMSSignals, tc.signal) {
				t.Fatalf("no signal %q in %+v", tc.signal, a)
			}
			if tc.cms == Potential && !strings.Contains(a.Verdict, tc.signal) {
				t.Fatalf("the potential match is not surfaced in the verdict: %q", a.Verdict)
			}
		})
	}
}

func hasSignal(ss []Signal, want string) bool {
	for _, s := range ss {
		if s.Kind == want || s.Match == want {
			return true
		}
	}
	return false
}

// TestWebsiteCustomDomainSignal: the tenant's active custom domain in
// the page counts for Cachely.
func TestWebsiteCustomDomainSignal(t *testing.T) {
	srv := site(t, map[string]page{"/": {body: html5(``, `<img src="https://www.acme-shop.com/~assets/a.png">`)}})
	c := newChecker(t, origin.Policy{AllowPrivate: true}, func(cfg *Config) { cfg.Domains = staticDomains{"acme": "www.acme-shop.com"} })
	r := c.Website(context.Background(), contentful, srv.URL+"/")
	if !r.OK || r.Analysis.VerdictState != Implemented || !hasSignal(r.Analysis.CachelySignals, kindCustom) {
		t.Fatalf("%+v %+v", r, r.Analysis)
	}
}

// staticDomains is a Domains of fixed hostnames (the tenant package's
// own tests cover ActiveDomain).
type staticDomains map[string]string

func (s staticDomains) ActiveDomain(slug string) (string, bool, error) {
	h, ok := s[slug]
	return h, ok, nil
}

func TestWebsiteFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"a":1}`))
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/to-product":
			http.Redirect(w, r, "https://acme.tenants.localhost/", http.StatusFound)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	closed := closedAddr(t)
	c := newChecker(t, origin.Policy{AllowPrivate: true}, nil)
	// Only the timeout case gets a short budget: it covers redirects too,
	// which a loaded machine must have time for in the other cases.
	quick := newChecker(t, origin.Policy{AllowPrivate: true}, func(cfg *Config) { cfg.FetchTimeout = 500 * time.Millisecond })
	strict := newChecker(t, origin.Policy{}, nil)
	cases := []struct {
		name, url, code string
		c               *Checker
		final           bool
	}{
		{"NotAURL", "http://exa mple.com/", ErrCodeInvalidURL, c, false},
		{"FTP", "ftp://example.com/", ErrCodeInvalidURL, c, false},
		{"UserInfo", "https://user:pw@example.com/", ErrCodeInvalidURL, c, false},
		{"TenantHost", "https://acme.tenants.localhost/", ErrCodeProductDomain, c, true},
		{"TenantDomain", "tenants.localhost", ErrCodeProductDomain, c, true},
		{"OtherTenant", "http://other.TENANTS.localhost:8080/x", ErrCodeProductDomain, c, true},
		{"CDNDomain", "https://zone1.cdn.localhost/", ErrCodeProductDomain, c, true},
		{"Blocked", srv.URL + "/", ErrCodeBlocked, strict, true},
		{"BlockedIPv6", "http://[::1]:1/", ErrCodeBlocked, strict, true},
		{"Refused", "http://" + closed + "/", ErrCodeFetch, c, true},
		{"NotFound", srv.URL + "/missing", ErrCodeStatus, c, true},
		{"NotHTML", srv.URL + "/json", ErrCodeNotHTML, c, true},
		{"RedirectLoop", srv.URL + "/loop", ErrCodeRedirects, c, true},
		{"RedirectToProduct", srv.URL + "/to-product", ErrCodeProductDomain, c, true},
		{"Timeout", srv.URL + "/slow", ErrCodeFetch, quick, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Website(context.Background(), contentful, tc.url)
			if r.OK || r.Error != tc.code || r.Message == "" || r.Analysis != nil {
				t.Fatalf("%+v, want error %s", r, tc.code)
			}
			if (r.FinalURL != nil) != tc.final {
				t.Fatalf("finalUrl %v, want set: %v", r.FinalURL, tc.final)
			}
			if strings.Contains(r.Message, "127.0.0.1") || strings.Contains(r.Message, "::1") {
				t.Fatalf("message names an address: %q", r.Message)
			}
		})
	}
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

// TestWebsiteBodyBound: only MaxBody bytes are read; a signal past them
// is not seen and the analysis says it was truncated.
func TestWebsiteBodyBound(t *testing.T) {
	pad := strings.Repeat("<p>padding</p>", 10_000) // 140 KB
	srv := site(t, map[string]page{
		"/late":  {body: html5(``, pad+`<img src="https://images.ctfassets.net/sp/late.jpg">`)},
		"/early": {body: html5(``, `<img src="https://images.ctfassets.net/sp/early.jpg">`+pad)},
	})
	c := newChecker(t, origin.Policy{AllowPrivate: true}, func(cfg *Config) { cfg.MaxBody = 64 << 10 })
	late := c.Website(context.Background(), contentful, srv.URL+"/late")
	if !late.OK || !late.Analysis.Truncated || late.Analysis.DirectCMSUsage != NotDetected {
		t.Fatalf("late: %+v", late.Analysis)
	}
	early := c.Website(context.Background(), contentful, srv.URL+"/early")
	if !early.OK || !early.Analysis.Truncated || early.Analysis.DirectCMSUsage != Detected {
		t.Fatalf("early: %+v", early.Analysis)
	}
}

// TestSignalsBounded: a page with thousands of references reports at
// most maxSignals of each kind.
func TestSignalsBounded(t *testing.T) {
	var b strings.Builder
	for i := range 2000 {
		b.WriteString(`<img src="https://images.ctfassets.net/sp/` + strings.Repeat("x", i%50) + `.jpg?i=` + string(rune('a'+i%26)) + `">`)
	}
	s := scanPage([]byte(html5("", b.String())), http.Header{})
	c := newChecker(t, origin.Policy{AllowPrivate: true}, nil)
	a := c.analyse(contentful, s, http.Header{}, Unknown)
	if len(a.DirectCMSSignals) != maxSignals || a.DirectCMSUsage != Detected {
		t.Fatalf("%d signals", len(a.DirectCMSSignals))
	}
}

func TestNormalizeSiteURL(t *testing.T) {
	for in, want := range map[string]string{
		"aletagency.com":              "https://aletagency.com",
		" https://Example.com/a#frag": "https://Example.com/a",
		"http://example.com:8080/":    "http://example.com:8080/",
	} {
		u, msg := normalizeSiteURL(in)
		if u == nil || u.String() != want {
			t.Errorf("%q: %v %q, want %q", in, u, msg, want)
		}
	}
	for _, in := range []string{"", "https://", "javascript:alert(1)", "mailto:a@b.c"} {
		if u, _ := normalizeSiteURL(in); u != nil {
			t.Errorf("%q accepted as %v", in, u)
		}
	}
}

// FuzzScanPage: any bytes scan without panicking, and every resource
// reference found is in a resource context.
func FuzzScanPage(f *testing.F) {
	f.Add([]byte(`<img srcset="a 1x, b 2x"><style>x{background:url("//h/x")}</style><script>"https:\/\/x.io"</script>`))
	f.Add([]byte(`<meta http-equiv="Content-Security-Policy" content="img-src https://a.b"><link rel=canonical href=//c>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := scanPage(body, http.Header{"Link": {string(body)}})
		for _, r := range s.resources {
			if !resourceContexts[r.ctx] {
				t.Fatalf("resource in context %q", r.ctx)
			}
		}
		_ = detectPlatform(s, http.Header{})
		for _, tx := range s.texts {
			_ = urlsIn(tx.val)
		}
	})
}
