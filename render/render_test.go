package render_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/render"
)

func TestNewFailsClearly(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where New makes its data dir
	cases := []struct {
		name, path, says string
	}{
		{"missing binary", "/nonexistent/chromium", "chromium not found"},
		{"not a browser", "/bin/false", "start chromium"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := render.New(context.Background(), render.Options{ChromePath: c.path})
			if err == nil {
				p.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %q does not say %q", err, c.says)
			}
		})
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Fatalf("failed starts left %v behind", left)
	}
}

func TestRenderedPages(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		// A JavaScript-only page: an empty body that scripts fill in.
		"/app": html(`<!DOCTYPE html><html><head><title>app</title>
<script type="application/ld+json">{"@type":"Product","name":"Lamp"}</script></head>
<body><div id="app"></div>
<script>fetch('/api/data').then(r => r.json()).then(d => { document.getElementById('app').textContent = d.text })</script>
<script src="/bundle.js"></script><template><script>alert(1)</script></template></body></html>`),
		"/api/data":  typed("application/json", `{"text":"injected by fetch"}`),
		"/bundle.js": typed("text/javascript", `const p = document.createElement('p'); p.id = 'from-bundle'; p.textContent = 'added by the bundle'; document.body.appendChild(p)`),
		"/ready": html(`<html><body><div id="c"></div><script>window.prerenderReady = false;
setTimeout(() => { document.getElementById('c').textContent = 'late content'; window.prerenderReady = true }, 1000)</script></body></html>`),
		"/meta404": html(`<html><head><meta name="prerender-status-code" content="404"></head><body>gone</body></html>`),
		"/meta301": html(`<html><head><meta name="prerender-status-code" content="301">
<meta name="prerender-header" content="Location: https://example.com/new?a=b:c">
<meta name="prerender-header" content="X-Robots-Tag: noindex"></head><body>moved</body></html>`),
		"/missing":   status(404, `<html><body><h1>Not here</h1><script>document.body.insertAdjacentHTML('beforeend', '<p>js 404</p>')</script></body></html>`),
		"/broken":    status(500, `<html><body>origin error page</body></html>`),
		"/old":       func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusMovedPermanently) },
		"/found":     func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) },
		"/new":       html(`<html><body>new</body></html>`),
		"/data.json": typed("application/json", `{"a":1}`),
		"/logo.png":  typed("image/png", string(pngBytes(t))),
	})
	cases := []struct {
		name     string
		path     string
		status   int
		rendered bool
		contains []string
		lacks    []string
		header   map[string]string
		exact    []byte // the body, byte for byte, for what is passed through
	}{
		{
			name: "js-only page", path: "/app", status: 200, rendered: true,
			contains: []string{"<!DOCTYPE html>", "injected by fetch", "added by the bundle", `<script type="application/ld+json">`, `"name":"Lamp"`},
			lacks:    []string{"fetch(", "bundle.js", "alert(1)"},
			header:   map[string]string{"Content-Type": "text/html; charset=utf-8"},
		},
		{name: "prerenderReady waits", path: "/ready", status: 200, rendered: true, contains: []string{"late content"}, lacks: []string{"<script"}},
		{name: "meta status override", path: "/meta404", status: 404, rendered: true, contains: []string{"gone"}},
		{
			name: "meta header override", path: "/meta301", status: 301, rendered: true, contains: []string{"moved"},
			header: map[string]string{"Location": "https://example.com/new?a=b:c", "X-Robots-Tag": "noindex"},
		},
		{name: "origin 404 rendered", path: "/missing", status: 404, rendered: true, contains: []string{"Not here", "js 404"}},
		{name: "origin 500 rendered", path: "/broken", status: 500, rendered: true, contains: []string{"origin error page"}},
		{name: "origin 404 with nothing to render passed through", path: "/bare404", status: 404},
		{name: "origin 301 passed through", path: "/old", status: 301, header: map[string]string{"Location": "/new"}},
		{name: "origin 302 passed through", path: "/found", status: 302, header: map[string]string{"Location": "/new"}},
		{name: "json passed through", path: "/data.json", status: 200, exact: []byte(`{"a":1}`), header: map[string]string{"Content-Type": "application/json"}},
		{name: "image passed through", path: "/logo.png", status: 200, exact: pngBytes(t), header: map[string]string{"Content-Type": "image/png"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s.count(c.path)
			res := renderOK(t, pool, render.Request{URL: s.URL + c.path})
			body := string(res.Body)
			if res.Status != c.status || res.Rendered != c.rendered {
				t.Fatalf("status %d rendered %v, want %d %v; body %s", res.Status, res.Rendered, c.status, c.rendered, body)
			}
			if c.exact != nil && !bytes.Equal(res.Body, c.exact) {
				t.Errorf("body %q, want the origin's %q", res.Body, c.exact)
			}
			for _, want := range c.contains {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q: %s", want, body)
				}
			}
			for _, bad := range c.lacks {
				if strings.Contains(body, bad) {
					t.Errorf("body has %q: %s", bad, body)
				}
			}
			for k, v := range c.header {
				if got := res.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if n := s.count(c.path) - before; n != 1 {
				t.Errorf("the origin saw %d fetches of the document, want exactly 1", n)
			}
			if res.Rendered {
				if n := strings.Count(body, "<script"); n != strings.Count(body, `<script type="application/ld+json">`) {
					t.Errorf("scripts other than JSON-LD survived: %s", body)
				}
			}
		})
	}
	if n := s.count("/new"); n != 0 {
		t.Fatalf("a redirect target was fetched %d times", n)
	}
	if n := strings.Count(string(renderOK(t, pool, render.Request{URL: s.URL + "/app"}).Body), "<script"); n != 1 {
		t.Fatalf("%d scripts in the js-only page, want only the JSON-LD one", n)
	}
}

// TestCookiesStayWithinOneRender checks that a page's API calls carry the
// cookies its document and scripts set (paused requests lack them), and
// that nothing of one render is left for the next.
func TestCookiesStayWithinOneRender(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/c": func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc", Path: "/"})
			html(`<html><body><p id="before"></p><p id="api"></p><script>
document.getElementById('before').textContent = 'before=[' + document.cookie + '] ls=' + localStorage.getItem('seen');
document.cookie = 'js=1; path=/';
localStorage.setItem('seen', '1');
fetch('/api/me').then(r => r.text()).then(t => { document.getElementById('api').textContent = 'api=[' + t + '] stored=' + localStorage.getItem('seen') })</script></body></html>`)(w, r)
		},
		"/api/me": func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Header.Get("Cookie")) },
	})
	for i := range 2 {
		body := string(renderOK(t, pool, render.Request{URL: s.URL + "/c"}).Body)
		if !strings.Contains(body, "before=[session=abc] ls=null") {
			t.Fatalf("render %d: the page saw cookies or storage it did not set: %s", i, body)
		}
		if !strings.Contains(body, "api=[") || !strings.Contains(body, "session=abc") || !strings.Contains(body, "js=1") || !strings.Contains(body, "stored=1") {
			t.Fatalf("render %d: the API call lacked the page's cookies: %s", i, body)
		}
	}
}

func TestResourcesAndTrackersAreBlocked(t *testing.T) {
	page := `<html><head><link rel="stylesheet" href="/style.css">
<script src="/www.google-analytics.com/analytics.js"></script>
<script src="/private-tracker/t.js"></script>
<script src="/ads-v2/a.js"></script></head>
<body><img src="/img.png"><video src="/movie.mp4"></video><div class="bg">text</div>
<script>navigator.sendBeacon('/beacon', 'x')</script></body></html>`
	s := newSite(t, map[string]http.HandlerFunc{
		"/page": html(page),
		"/style.css": typed("text/css", `.bg { background-image: url(/bg.png) }
@font-face { font-family: F; src: url(/font.woff2) format("woff2") } body { font-family: F }`),
		"/img.png":                               typed("image/png", "x"),
		"/bg.png":                                typed("image/png", "x"),
		"/font.woff2":                            typed("font/woff2", "x"),
		"/movie.mp4":                             typed("video/mp4", "x"),
		"/beacon":                                typed("text/plain", "x"),
		"/www.google-analytics.com/analytics.js": typed("text/javascript", "x"),
		"/private-tracker/t.js":                  typed("text/javascript", "x"),
		"/ads-v2/a.js":                           typed("text/javascript", "x"),
	})
	// A domain's own patterns: a plain substring and a glob.
	renderOK(t, pool, render.Request{URL: s.URL + "/page", Block: []string{"/private-tracker", "/ads-*/"}})
	if s.count("/style.css") != 1 {
		t.Fatal("the stylesheet was not loaded, so the test proves nothing about its images and fonts")
	}
	for _, p := range []string{"/img.png", "/bg.png", "/font.woff2", "/movie.mp4", "/beacon", "/www.google-analytics.com/analytics.js", "/private-tracker/t.js", "/ads-v2/a.js"} {
		if n := s.count(p); n != 0 {
			t.Errorf("%s was requested %d times", p, n)
		}
	}
	if n := s.count("/page"); n != 1 {
		t.Errorf("the page was fetched %d times, want 1", n)
	}
	renderOK(t, pool, render.Request{URL: s.URL + "/page", AllowResources: true})
	if s.count("/img.png") == 0 {
		t.Error("AllowResources did not let the image load")
	}
	if s.count("/ads-v2/a.js") == 0 {
		t.Error("the domain's pattern of the first render was applied to the second")
	}
	if n := s.count("/www.google-analytics.com/analytics.js"); n != 0 {
		t.Errorf("AllowResources let a tracker load (%d requests)", n)
	}

	// The fields a domain's blockResources and blockTrackers map to
	// (page.Service) replace the defaults: stylesheets refused, images
	// and trackers load.
	css, img := s.count("/style.css"), s.count("/img.png")
	renderOK(t, pool, render.Request{URL: s.URL + "/page", BlockTypes: []string{"stylesheet"}, AllowTrackers: true})
	if s.count("/style.css") != css {
		t.Error("BlockTypes [stylesheet] let the stylesheet load")
	}
	if s.count("/img.png") == img {
		t.Error("BlockTypes without image still blocked the image")
	}
	if s.count("/www.google-analytics.com/analytics.js") == 0 {
		t.Error("AllowTrackers did not let the tracker load")
	}
}

func TestVariants(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		// A mobile-ready page: without the viewport tag a phone lays a
		// page out 980 pixels wide, as Chromium's emulation does too.
		"/ua": html(`<html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head><body><p id="ua"></p><p id="w"></p><script>
// Read the width once laid out: while the document is still parsing,
// Chromium may not have applied the viewport tag yet.
window.addEventListener('load', () => {
document.getElementById('ua').textContent = 'ua=[' + navigator.userAgent + ']';
document.getElementById('w').textContent = 'width=' + window.innerWidth + ' touch=' + navigator.maxTouchPoints;
});</script></body></html>`),
	})
	cases := []struct {
		name    string
		variant render.Variant
		mobile  bool
		width   func(int) bool
	}{
		{"desktop", render.Desktop, false, func(w int) bool { return w == 1366 }},
		{"mobile", render.Mobile, true, func(w int) bool { return w > 0 && w < 600 }},
		{"default is desktop", "", false, func(w int) bool { return w == 1366 }},
	}
	re := regexp.MustCompile(`ua=\[([^\]]*)\]|width=(\d+) touch=(\d+)`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := string(renderOK(t, pool, render.Request{URL: s.URL + "/ua", Variant: c.variant}).Body)
			var ua string
			width, touch := -1, -1
			for _, m := range re.FindAllStringSubmatch(body, -1) {
				if m[2] == "" {
					ua = m[1]
					continue
				}
				width, _ = strconv.Atoi(m[2])
				touch, _ = strconv.Atoi(m[3])
			}
			if ua == "" || width < 0 {
				t.Fatalf("the page did not report its user agent and width: %s", body)
			}
			if got := strings.Contains(ua, "Mobile"); got != c.mobile {
				t.Errorf("user agent %q: mobile %v, want %v", ua, got, c.mobile)
			}
			if !strings.Contains(ua, "rendercache") {
				t.Errorf("user agent %q does not mark the render", ua)
			}
			if !c.width(width) {
				t.Errorf("innerWidth %d is wrong for %s", width, c.name)
			}
			if (touch > 0) != c.mobile {
				t.Errorf("maxTouchPoints %d, want touch only on mobile", touch)
			}
		})
	}
}

func TestTimeoutIsAnError(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/never": html(`<html><body><script>window.prerenderReady = false</script>never ready</body></html>`),
		"/spin":  html(`<html><body>spins<script>setTimeout(() => { while (true) {} }, 10)</script></body></html>`),
		"/ok":    html(`<html><body>fine</body></html>`),
	})
	restarts := pool.Stats().Restarts
	for _, path := range []string{"/never", "/spin"} {
		t.Run(path, func(t *testing.T) {
			res, err := pool.Render(context.Background(), render.Request{URL: s.URL + path, Timeout: 2 * time.Second})
			if !errors.Is(err, render.ErrTimeout) || errkind.KindOf(err) != errkind.Unavailable {
				t.Fatalf("err = %v (result status %d), want ErrTimeout", err, res.Status)
			}
			if res.Status != 0 || res.Body != nil {
				t.Fatalf("a timed-out render returned a result: %+v", res)
			}
		})
	}
	// A page that hangs its own renderer does not cost the browser.
	renderOK(t, pool, render.Request{URL: s.URL + "/ok"})
	if n := pool.Stats().Restarts; n != restarts {
		t.Fatalf("the browser restarted %d times over timed-out pages", n-restarts)
	}
}

func TestBadInput(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()
	cases := []struct {
		name string
		req  render.Request
		kind errkind.Kind
		is   error
	}{
		{"ftp", render.Request{URL: "ftp://example.com/x"}, errkind.Invalid, render.ErrBadURL},
		{"javascript", render.Request{URL: "javascript:alert(1)"}, errkind.Invalid, render.ErrBadURL},
		{"not a url", render.Request{URL: "not a url"}, errkind.Invalid, render.ErrBadURL},
		{"malformed", render.Request{URL: "http://[::1/x"}, errkind.Invalid, render.ErrBadURL},
		{"no host", render.Request{URL: "http://"}, errkind.Invalid, render.ErrBadURL},
		{"relative", render.Request{URL: "/x"}, errkind.Invalid, render.ErrBadURL},
		{"unknown variant", render.Request{URL: "http://127.0.0.1/", Variant: "tablet"}, errkind.Invalid, render.ErrBadRequest},
		{"unknown priority", render.Request{URL: "http://127.0.0.1/", Priority: 7}, errkind.Invalid, render.ErrBadRequest},
		{"refused connection", render.Request{URL: closed}, errkind.Unavailable, render.ErrOrigin},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := pool.Render(context.Background(), c.req)
			if err == nil || errkind.KindOf(err) != c.kind || !errors.Is(err, c.is) {
				t.Fatalf("err = %v (kind %v), want kind %v matching %v", err, errkind.KindOf(err), c.kind, c.is)
			}
		})
	}
}

func TestSSRFIsRefusedOnTheDialledAddress(t *testing.T) {
	// The "internal service" listens on 127.0.0.2, a private address the
	// shared pool's policy refuses; the origin is on 127.0.0.1, which the
	// policy allows (as an operator's --allow-origin-cidrs would).
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var secretHits []string
	secret := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		secretHits = append(secretHits, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Access-Control-Allow-Origin", "*")
		io.WriteString(w, "top secret")
	}))
	secret.Listener = ln
	secret.Start()
	defer secret.Close()
	var s *site
	s = newSite(t, map[string]http.HandlerFunc{
		"/page": func(w http.ResponseWriter, r *http.Request) {
			// The second frame is the same server under another name, so
			// another site to Chromium: it runs in a process of its own,
			// whose requests the page's interceptor may not see.
			crossSite := strings.Replace(s.URL, "127.0.0.1", "localhost", 1)
			html(fmt.Sprintf(`<html><body><div id="out">start</div><div id="out2">start</div>
<iframe src="%[1]s/frame"></iframe>
<iframe src="%[2]s/cross-site-frame"></iframe>
<script src="%[1]s/script.js"></script>
<script>
fetch('%[1]s/fetch').then(r => r.text()).then(t => { document.getElementById('out').textContent = t }).catch(() => { document.getElementById('out').textContent = 'blocked' });
fetch('/redir').then(r => r.text()).then(t => { document.getElementById('out2').textContent = t }).catch(() => { document.getElementById('out2').textContent = 'redirect blocked' });
</script></body></html>`, secret.URL, crossSite))(w, r)
		},
		"/redir": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, secret.URL+"/redirected", http.StatusFound)
		},
		"/cross-site-frame": html(fmt.Sprintf(`<html><body><img src="%[1]s/img.png"><script src="%[1]s/frame-script.js"></script>
<script>fetch('%[1]s/frame-fetch').catch(() => {}); try { new WebSocket('%[2]s/ws') } catch (e) {}</script></body></html>`,
			secret.URL, strings.Replace(secret.URL, "http:", "ws:", 1))),
	})
	res := renderOK(t, pool, render.Request{URL: s.URL + "/page"})
	body := string(res.Body)
	if strings.Contains(body, "top secret") || !strings.Contains(body, ">blocked<") || !strings.Contains(body, "redirect blocked") {
		t.Errorf("the page's requests to the internal service were not refused: %s", body)
	}
	if s.count("/redir") != 1 {
		t.Errorf("the redirecting subrequest was fetched %d times, want 1", s.count("/redir"))
	}

	// An origin on a refused address is refused before any connection.
	_, err = pool.Render(context.Background(), render.Request{URL: secret.URL + "/direct"})
	if !errors.Is(err, render.ErrOrigin) || !errors.Is(err, origin.ErrBlockedAddr) {
		t.Errorf("render of a refused origin: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(secretHits) > 0 {
		t.Fatalf("the internal service got requests: %v", secretHits)
	}
	t.Logf("the cross-site frame was fetched %d times", s.count("/cross-site-frame"))
}

// TestStrictPolicyRefusesLoopbackOrigin renders with the zero Policy, the
// strict one: the tests' origin on loopback is refused before any
// connection, whether named by address or by name.
func TestStrictPolicyRefusesLoopbackOrigin(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{"/": html(`<html><body>loopback</body></html>`)})
	p, err := render.New(context.Background(), render.Options{Concurrency: 1, IdleTime: testIdle, Policy: origin.Policy{}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cases := []struct{ name, url string }{
		{"loopback address", s.URL + "/"},
		{"localhost name", strings.Replace(s.URL, "127.0.0.1", "localhost", 1) + "/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := p.Render(context.Background(), render.Request{URL: c.url})
			if !errors.Is(err, render.ErrOrigin) || !errors.Is(err, origin.ErrBlockedAddr) || errkind.KindOf(err) != errkind.Unavailable {
				t.Fatalf("render of a loopback origin under the strict policy: %v (result %+v)", err, res)
			}
		})
	}
	if n := s.count("/"); n != 0 {
		t.Fatalf("the refused origin got %d requests", n)
	}
}

// pngBytes returns a real PNG image, for passthrough checks.
func pngBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
