package render_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/render"
)

// pool is the package's one shared Chromium. Without Chromium the package
// fails; it never skips.
//
// It runs two renders at once with a queue of two, which the priority and
// queue tests rely on, and its policy allows 127.0.0.1 only: the tests'
// origins are there, and the SSRF test's "internal" service listens on
// 127.0.0.2, which is refused like any other private address.
var pool *render.Pool

// testIdle is the test pools' network-idle window, shorter than the
// default to keep the package's run short; TestOptionsDefaults covers the
// default.
const testIdle = 250 * time.Millisecond

var (
	loopbackOnly = origin.Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	allowAll     = origin.Policy{AllowPrivate: true}
)

func TestMain(m *testing.M) {
	// A private TMPDIR shows whatever browsers leave behind: their data
	// dirs and Chromium's singleton socket dirs must all be gone at the
	// end.
	tmp, err := os.MkdirTemp("", "rendercache-render-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("TMPDIR", tmp)
	p, err := render.New(context.Background(), render.Options{Concurrency: 2, QueueSize: 2, IdleTime: testIdle, Policy: loopbackOnly})
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the render tests need Chromium (make deps installs it): %v\n", err)
		os.Exit(1)
	}
	pool = p
	dir := poolDir(p.BrowserPID())
	code := m.Run()
	p.Close()
	if live := processesUsing(dir); len(live) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: chromium processes %v outlived the shared pool's Close\n", live)
		code = 1
	}
	if z := zombies(); len(z) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: zombie children %v after Close\n", z)
		code = 1
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		fmt.Fprintf(os.Stderr, "FAIL: the shared pool's data dir %s outlived its Close (%v)\n", dir, err)
		code = 1
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		fmt.Fprintf(os.Stderr, "FAIL: browsers left %v in TMPDIR\n", names)
		code = 1
	}
	os.RemoveAll(tmp)
	os.Exit(code)
}

// site is an origin whose pages the tests define. It counts requests by
// path.
type site struct {
	*httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	pages map[string]http.HandlerFunc
}

func newSite(t testing.TB, pages map[string]http.HandlerFunc) *site {
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

// count returns how many requests path got.
func (s *site) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// html answers with an HTML page.
func html(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, body)
	}
}

// typed answers with body as content type ct.
func typed(ct, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ct)
		io.WriteString(w, body)
	}
}

// status answers with an HTML page and the given status.
func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func renderOK(t testing.TB, p *render.Pool, r render.Request) render.Result {
	t.Helper()
	res, err := p.Render(context.Background(), r)
	if err != nil {
		t.Fatalf("render %s: %v", r.URL, err)
	}
	return res
}

// poll waits until cond holds, failing the test after a generous
// deadline. Tests synchronise with it, never with sleeps.
func poll(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gates hold origin responses until a test opens them, so that a render
// keeps its slot for as long as the test needs.
type gates struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

func newGates(t testing.TB) *gates {
	g := &gates{ch: map[string]chan struct{}{}}
	t.Cleanup(g.openAll)
	return g
}

func (g *gates) get(name string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.ch[name]
	if !ok {
		c = make(chan struct{})
		g.ch[name] = c
	}
	return c
}

func (g *gates) open(name string) {
	c := g.get(name)
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-c:
	default:
		close(c)
	}
}

func (g *gates) openAll() {
	g.mu.Lock()
	names := make([]string, 0, len(g.ch))
	for n := range g.ch {
		names = append(names, n)
	}
	g.mu.Unlock()
	for _, n := range names {
		g.open(n)
	}
}

// slowSite serves /slow?g=NAME, a page that is ready only once the gate
// NAME opens (its content arrives through fetch), /fast, and /quick, which
// declares itself ready as it loads, so that it needs no idle window.
func slowSite(t testing.TB, g *gates) *site {
	defer t.Cleanup(g.openAll) // before the server closes: cleanups run last first
	return newSite(t, map[string]http.HandlerFunc{
		"/slow": html(`<html><body><div id="x"></div><script>
fetch('/api/slow' + location.search).then(r => r.text()).then(t => { document.getElementById('x').textContent = t })</script></body></html>`),
		"/fast":  html(`<html><body>fast page</body></html>`),
		"/quick": html(`<html><body>quick page<script>window.prerenderReady = true</script></body></html>`),
		"/api/slow": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-g.get(r.URL.Query().Get("g")):
			case <-r.Context().Done():
			}
			io.WriteString(w, "slow done")
		},
	})
}

// statFields returns the fields of /proc/<pid>/stat after the command
// (which may contain spaces): state, ppid, ... (field 3 onwards of proc(5)).
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// procStat returns a process's state letter and parent PID.
func procStat(pid int) (state string, ppid int, ok bool) {
	f := statFields(pid)
	if len(f) < 2 {
		return "", 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	return f[0], ppid, true
}

// pids lists the processes in /proc.
func pids() []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// processesUsing returns the live (non-zombie) processes whose command
// line mentions dir: a pool's browsers and all their helpers.
func processesUsing(dir string) []int {
	var live []int
	for _, pid := range pids() {
		if st, _, ok := procStat(pid); !ok || st == "Z" {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if strings.Contains(string(cmd), dir) {
			live = append(live, pid)
		}
	}
	return live
}

// zombies returns this process's children that exited unreaped.
func zombies() []int {
	var out []int
	for _, pid := range pids() {
		if st, ppid, ok := procStat(pid); ok && st == "Z" && ppid == os.Getpid() {
			out = append(out, pid)
		}
	}
	return out
}

// descendants returns pid and every process below it.
var descendants = render.Descendants

// userDataDir returns the --user-data-dir of a browser process.
func userDataDir(pid int) string {
	cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	for _, a := range strings.Split(string(cmd), "\x00") {
		if v, ok := strings.CutPrefix(a, "--user-data-dir="); ok {
			return v
		}
	}
	return ""
}

// poolDir returns the directory that holds every user data dir of the
// pool whose browser is pid.
func poolDir(pid int) string {
	d := userDataDir(pid)
	if d == "" {
		panic(fmt.Sprintf("browser %d has no user data dir", pid))
	}
	return filepath.Dir(d)
}

// poolGoroutines counts goroutines running code of this package or of
// chromedp, or holding an HTTP client connection, apart from the tests'
// own goroutines.
func poolGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "rendercache/render_test.") {
			continue
		}
		if strings.Contains(g, "github.com/chromedp/") || strings.Contains(g, "rendercache/rendercache/render.") || strings.Contains(g, "net/http.(*persistConn)") {
			count++
		}
	}
	return count
}
