package render_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rendercache/rendercache/errkind"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/render"
)

// pool is the package's one shared Chromium. Without Chromium the package
// fails; it never skips.
var pool *render.Pool

var allowAll = origin.Policy{AllowPrivate: true}

func TestMain(m *testing.M) {
	p, err := render.New(context.Background(), render.Options{Concurrency: 2, Policy: allowAll})
	if err != nil {
		fmt.Fprintf(os.Stderr, "render tests need Chromium (make deps installs it): %v\n", err)
		os.Exit(1)
	}
	pool = p
	code := m.Run()
	p.Close()
	os.Exit(code)
}

// site is an origin whose pages the tests define, counting requests by
// path.
type site struct {
	*httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	pages map[string]func(w http.ResponseWriter, r *http.Request)
}

func newSite(t *testing.T, pages map[string]func(w http.ResponseWriter, r *http.Request)) *site {
	s := &site{hits: map[string]int{}, pages: pages}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if h, ok := s.pages[r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func html(body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, body)
	}
}

func status(code int, body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func renderOK(t *testing.T, p *render.Pool, r render.Request) render.Result {
	t.Helper()
	res, err := p.Render(context.Background(), r)
	if err != nil {
		t.Fatalf("render %s: %v", r.URL, err)
	}
	return res
}

func TestRenderedPages(t *testing.T) {
	s := newSite(t, map[string]func(http.ResponseWriter, *http.Request){
		"/app": html(`<!DOCTYPE html><html><head><title>app</title>
<script type="application/ld+json">{"@type":"Product","name":"Lamp"}</script></head>
<body><div id="app"></div>
<script>fetch('/api/data').then(r => r.json()).then(d => { document.getElementById('app').textContent = d.text })</script>
<script src="/bundle.js"></script></body></html>`),
		"/api/data": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"text":"injected by fetch"}`)
		},
		"/bundle.js": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			io.WriteString(w, `document.title = 'from bundle'`)
		},
		"/ready": html(`<html><body><div id="c"></div><script>window.prerenderReady = false;
setTimeout(() => { document.getElementById('c').textContent = 'late content'; window.prerenderReady = true }, 1000)</script></body></html>`),
		"/meta404": html(`<html><head><meta name="prerender-status-code" content="404"></head><body>gone</body></html>`),
		"/meta301": html(`<html><head><meta name="prerender-status-code" content="301"><meta name="prerender-header" content="Location: https://example.com/new"></head><body>moved</body></html>`),
		"/missing": status(404, `<html><body><h1>Not here</h1></body></html>`),
		"/old":     func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusMovedPermanently) },
		"/new":     html(`<html><body>new</body></html>`),
		"/data.json": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"a":1}`)
		},
		"/logo.png": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG\r\n\x1a\nfake"))
		},
	})
	cases := []struct {
		name     string
		path     string
		status   int
		rendered bool
		contains []string
		lacks    []string
		header   map[string]string
	}{
		{"js-only page", "/app", 200, true, []string{"injected by fetch", `application/ld+json`, `"name":"Lamp"`, "<!DOCTYPE html>"}, []string{"fetch(", "bundle.js"}, map[string]string{"Content-Type": "text/html; charset=utf-8"}},
		{"prerenderReady waits", "/ready", 200, true, []string{"late content"}, []string{"<script"}, nil},
		{"meta status override", "/meta404", 404, true, []string{"gone"}, nil, nil},
		{"meta header override", "/meta301", 301, true, []string{"moved"}, nil, map[string]string{"Location": "https://example.com/new"}},
		{"origin 404 rendered", "/missing", 404, true, []string{"Not here"}, nil, nil},
		{"origin 301 returned as is", "/old", 301, false, nil, nil, map[string]string{"Location": "/new"}},
		{"json passes through", "/data.json", 200, false, []string{`{"a":1}`}, nil, map[string]string{"Content-Type": "application/json"}},
		{"image passes through", "/logo.png", 200, false, []string{"PNG"}, nil, map[string]string{"Content-Type": "image/png"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s.count(c.path)
			res := renderOK(t, pool, render.Request{URL: s.URL + c.path})
			body := string(res.Body)
			if res.Status != c.status || res.Rendered != c.rendered {
				t.Fatalf("status %d rendered %v, want %d %v; body %s", res.Status, res.Rendered, c.status, c.rendered, body)
			}
			for _, want := range c.contains {
				if !strings.Contains(body, want) {
					t.Fatalf("body lacks %q: %s", want, body)
				}
			}
			for _, bad := range c.lacks {
				if strings.Contains(body, bad) {
					t.Fatalf("body has %q: %s", bad, body)
				}
			}
			for k, v := range c.header {
				if got := res.Header.Get(k); got != v {
					t.Fatalf("header %s = %q, want %q", k, got, v)
				}
			}
			if n := s.count(c.path) - before; n != 1 {
				t.Fatalf("the origin saw %d fetches of the document, want exactly 1", n)
			}
		})
	}
	if s.count("/new") != 0 {
		t.Fatal("the redirect target was fetched")
	}
	// Only the ld+json script survives in the js-only page.
	res := renderOK(t, pool, render.Request{URL: s.URL + "/app"})
	if n := strings.Count(string(res.Body), "<script"); n != 1 {
		t.Fatalf("%d scripts left, want only the ld+json one", n)
	}
}

func TestResourcesAndTrackersAreBlocked(t *testing.T) {
	page := `<html><head><link rel="stylesheet" href="/style.css">
<script src="/www.google-analytics.com/analytics.js"></script>
<script src="/private-tracker/t.js"></script></head>
<body><img src="/img.png"><video src="/movie.mp4"></video><div class="bg">text</div></body></html>`
	asset := func(ct string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			io.WriteString(w, "x")
		}
	}
	s := newSite(t, map[string]func(http.ResponseWriter, *http.Request){
		"/page": html(page),
		"/style.css": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/css")
			io.WriteString(w, `.bg { background-image: url(/bg.png) } @font-face { font-family: F; src: url(/font.woff2) } body { font-family: F }`)
		},
		"/img.png":                               asset("image/png"),
		"/bg.png":                                asset("image/png"),
		"/font.woff2":                            asset("font/woff2"),
		"/movie.mp4":                             asset("video/mp4"),
		"/www.google-analytics.com/analytics.js": asset("text/javascript"),
		"/private-tracker/t.js":                  asset("text/javascript"),
	})
	renderOK(t, pool, render.Request{URL: s.URL + "/page", Block: []string{"/private-tracker/"}})
	if s.count("/style.css") != 1 {
		t.Fatal("the stylesheet was not loaded")
	}
	for _, p := range []string{"/img.png", "/bg.png", "/font.woff2", "/movie.mp4", "/www.google-analytics.com/analytics.js", "/private-tracker/t.js"} {
		if n := s.count(p); n != 0 {
			t.Fatalf("%s was requested %d times", p, n)
		}
	}
	renderOK(t, pool, render.Request{URL: s.URL + "/page", AllowResources: true})
	if s.count("/img.png") == 0 {
		t.Fatal("AllowResources did not let the image load")
	}
}

func TestVariants(t *testing.T) {
	s := newSite(t, map[string]func(http.ResponseWriter, *http.Request){
		"/ua": html(`<html><body><p id="ua"></p><p id="w"></p><script>
document.getElementById('ua').textContent = navigator.userAgent;
document.getElementById('w').textContent = 'width=' + window.innerWidth;</script></body></html>`),
	})
	desk := string(renderOK(t, pool, render.Request{URL: s.URL + "/ua", Variant: render.Desktop}).Body)
	mob := string(renderOK(t, pool, render.Request{URL: s.URL + "/ua", Variant: render.Mobile}).Body)
	if !strings.Contains(desk, "width=1366") || strings.Contains(desk, "Mobile") {
		t.Fatalf("desktop render: %s", desk)
	}
	if !strings.Contains(mob, "Mobile") || strings.Contains(mob, "width=1366") {
		t.Fatalf("mobile render: %s", mob)
	}
}

func TestTimeoutIsAnError(t *testing.T) {
	s := newSite(t, map[string]func(http.ResponseWriter, *http.Request){
		"/never": html(`<html><body><script>window.prerenderReady = false</script>never ready</body></html>`),
	})
	_, err := pool.Render(context.Background(), render.Request{URL: s.URL + "/never", Timeout: 1500 * time.Millisecond})
	if !errors.Is(err, render.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
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
		url  string
		kind errkind.Kind
	}{
		{"ftp", "ftp://example.com/x", errkind.Invalid},
		{"not a url", "not a url", errkind.Invalid},
		{"no host", "http://", errkind.Invalid},
		{"relative", "/x", errkind.Invalid},
		{"refused connection", closed, errkind.Unavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := pool.Render(context.Background(), render.Request{URL: c.url})
			if err == nil || errkind.KindOf(err) != c.kind {
				t.Fatalf("err = %v (kind %v), want kind %v", err, errkind.KindOf(err), c.kind)
			}
		})
	}
}

func TestSSRFIsRefusedOnTheDialledAddress(t *testing.T) {
	// The secret service listens on 127.0.0.2; pages may only reach
	// 127.0.0.1 (as if that were the operator's allowed network).
	secretLn, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	var secretHits sync.Map
	secret := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secretHits.Store(r.URL.Path, true)
		io.WriteString(w, "top secret")
	}))
	secret.Listener = secretLn
	secret.Start()
	defer secret.Close()
	s := newSite(t, map[string]func(http.ResponseWriter, *http.Request){
		"/page": html(fmt.Sprintf(`<html><body><div id="out">start</div>
<iframe src="%[1]s/frame"></iframe>
<script>
fetch('%[1]s/fetch').then(r => r.text()).then(t => { document.getElementById('out').textContent = t }).catch(() => { document.getElementById('out').textContent = 'blocked' });
fetch('/redir').catch(() => {});
</script></body></html>`, secret.URL)),
		"/redir": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, secret.URL+"/redirected", http.StatusFound)
		},
	})
	strict, err := render.New(context.Background(), render.Options{Concurrency: 1, Policy: origin.Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	defer strict.Close()
	res := renderOK(t, strict, render.Request{URL: s.URL + "/page"})
	if strings.Contains(string(res.Body), "top secret") {
		t.Fatalf("the page read the secret service: %s", res.Body)
	}
	secretHits.Range(func(k, _ any) bool {
		t.Fatalf("the secret service got a request for %v", k)
		return false
	})

	// With no allowance at all, the origin itself on loopback is refused.
	_, err = strict.Render(context.Background(), render.Request{URL: secret.URL + "/direct"})
	if !errors.Is(err, render.ErrOrigin) {
		t.Fatalf("render of a refused origin: %v", err)
	}
	if _, ok := secretHits.Load("/direct"); ok {
		t.Fatal("the refused origin was contacted")
	}
}

// gate is an origin subrequest that blocks until released, so a render
// holds its slot for as long as a test needs.
type gate struct {
	once sync.Once
	ch   chan struct{}
}

func newGate() *gate  { return &gate{ch: make(chan struct{})} }
func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

func slowSite(t *testing.T, g *gate) *site {
	s := newSite(t, map[string]func(http.ResponseWriter, *http.Request){
		"/slow": html(`<html><body><div id="x"></div><script>fetch('/api/slow').then(r => r.text()).then(t => { document.getElementById('x').textContent = t })</script></body></html>`),
		"/fast": html(`<html><body>fast</body></html>`),
		"/api/slow": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-g.ch:
			case <-r.Context().Done():
			}
			io.WriteString(w, "slow done")
		},
	})
	t.Cleanup(g.open)
	return s
}

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPriorityAndBoundedQueue(t *testing.T) {
	g := newGate()
	s := slowSite(t, g)
	p, err := render.New(context.Background(), render.Options{Concurrency: 1, QueueSize: 2, Policy: allowAll})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	run := func(name string, prio render.Priority, path string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Render(context.Background(), render.Request{URL: s.URL + path, Priority: prio}); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
		}()
	}
	run("slow", render.Live, "/slow")
	poll(t, "the slow render to hold the slot", func() bool { return p.Stats().Active == 1 })
	run("background", render.Background, "/fast")
	poll(t, "the background render to queue", func() bool { return p.Stats().Queued == 1 })
	run("live", render.Live, "/fast")
	poll(t, "the live render to queue", func() bool { return p.Stats().Queued == 2 })

	// The queue is full: the next render is refused at once.
	_, err = p.Render(context.Background(), render.Request{URL: s.URL + "/fast"})
	if !errors.Is(err, render.ErrQueueFull) || errkind.Of(err).RetryAfter <= 0 {
		t.Fatalf("full queue: %v", err)
	}
	// A caller that gives up leaves the queue... (after the others finish,
	// its slot is not consumed).
	g.open()
	wg.Wait()
	if strings.Join(order, ",") != "slow,live,background" {
		t.Fatalf("completion order %v, want the live render before the background one", order)
	}

	// A queued caller whose context ends leaves the queue.
	g2 := newGate()
	s2 := slowSite(t, g2)
	wg.Add(1)
	go func() { defer wg.Done(); p.Render(context.Background(), render.Request{URL: s2.URL + "/slow"}) }()
	poll(t, "the slot to be taken", func() bool { return p.Stats().Active == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := p.Render(ctx, render.Request{URL: s2.URL + "/fast"}); done <- err }()
	poll(t, "the waiter to queue", func() bool { return p.Stats().Queued == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	if q := p.Stats().Queued; q != 0 {
		t.Fatalf("queue length %d after the waiter left", q)
	}
	g2.open()
	wg.Wait()
}

// chromiumProcs returns the PIDs of live (non-zombie) processes whose
// command line mentions dir, and the zombie children of this process.
func chromiumProcs(dirPrefix string) (live []int, zombies []int) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		var ppid int
		fmt.Sscanf(f[1], "%d", &ppid)
		if f[0] == "Z" {
			if ppid == os.Getpid() {
				zombies = append(zombies, pid)
			}
			continue
		}
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if dirPrefix != "" && strings.Contains(string(cmd), dirPrefix) {
			live = append(live, pid)
		}
	}
	return live, zombies
}

// userDataDir returns the --user-data-dir of a browser process.
func userDataDir(t *testing.T, pid int) string {
	cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range strings.Split(string(cmd), "\x00") {
		if v, ok := strings.CutPrefix(a, "--user-data-dir="); ok {
			return v
		}
	}
	t.Fatalf("browser %d has no user data dir", pid)
	return ""
}

func TestCrashRecoveryUnderLoad(t *testing.T) {
	baseline := runtime.NumGoroutine()
	g := newGate()
	s := slowSite(t, g)
	p, err := render.New(context.Background(), render.Options{Concurrency: 2, Policy: allowAll})
	if err != nil {
		t.Fatal(err)
	}
	firstPID := p.BrowserPID()
	firstDir := userDataDir(t, firstPID)

	const n = 6
	errs := make(chan error, n)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range n {
		go func() {
			_, err := p.Render(ctx, render.Request{URL: fmt.Sprintf("%s/slow?i=%d", s.URL, i)})
			errs <- err
		}()
	}
	poll(t, "renders in flight", func() bool { return p.Stats().Active == 2 })
	if err := syscall.Kill(firstPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	poll(t, "a new browser", func() bool { pid := p.BrowserPID(); return pid != 0 && pid != firstPID })
	g.open()
	for range n {
		if err := <-errs; err != nil && errkind.KindOf(err) != errkind.Unavailable {
			t.Fatalf("a render failed uncleanly: %v", err)
		}
	}
	if st := p.Stats(); st.Restarts < 1 {
		t.Fatalf("stats after a crash: %+v", st)
	}
	res := renderOK(t, p, render.Request{URL: s.URL + "/fast"})
	if !strings.Contains(string(res.Body), "fast") {
		t.Fatalf("render after recovery: %s", res.Body)
	}
	secondDir := userDataDir(t, p.BrowserPID())
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := p.Render(context.Background(), render.Request{URL: s.URL + "/fast"}); !errors.Is(err, render.ErrClosed) {
		t.Fatalf("render after Close: %v", err)
	}
	for _, dir := range []string{firstDir, secondDir} {
		poll(t, "chromium processes of "+dir+" to exit", func() bool {
			live, zombies := chromiumProcs(dir)
			return len(live) == 0 && len(zombies) == 0
		})
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("user data dir %s left behind", dir)
		}
	}
	s.CloseClientConnections()
	poll(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= baseline+5 })
}

func TestBrowserIsReplacedPastItsMemoryCeiling(t *testing.T) {
	s := newSite(t, map[string]func(http.ResponseWriter, *http.Request){"/p": html(`<html><body>page</body></html>`)})
	// A ceiling every browser is over: each check replaces it.
	p, err := render.New(context.Background(), render.Options{Concurrency: 1, Policy: allowAll, MemoryLimit: 1, MemoryCheck: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	first := p.BrowserPID()
	firstDir := userDataDir(t, first)
	poll(t, "the browser to be replaced", func() bool { return p.Stats().Recycles >= 1 && p.BrowserPID() != first })
	for range 3 {
		if res := renderOK(t, p, render.Request{URL: s.URL + "/p"}); !strings.Contains(string(res.Body), "page") {
			t.Fatalf("render across replacements: %s", res.Body)
		}
	}
	poll(t, "the retired browser to exit", func() bool { live, _ := chromiumProcs(firstDir); return len(live) == 0 })
	if st := p.Stats(); st.Restarts != 0 {
		t.Fatalf("a planned replacement counted as a crash: %+v", st)
	}
	lastDir := userDataDir(t, p.BrowserPID())
	p.Close()
	poll(t, "every browser to exit", func() bool { live, _ := chromiumProcs(lastDir); return len(live) == 0 })
}
