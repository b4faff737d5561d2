package render_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rendercache/rendercache/render"
)

// spaDir holds the render benchmarks' fixture (bench/render/site): a
// React-like app that sets window.prerenderReady 400 ms after its load
// event; make bench-render renders the same files.
const spaDir = "../bench/render/site"

// spaSite serves the SPA fixture, and /held?g=NAME, the fixture whose API
// call waits for the gate NAME.
func spaSite(b testing.TB, g *gates) *site {
	files := http.FileServer(http.Dir(spaDir))
	index, err := os.ReadFile(filepath.Join(spaDir, "index.html"))
	if err != nil {
		b.Fatal(err)
	}
	pages := map[string]http.HandlerFunc{
		"/":     html(string(index)),
		"/held": html(strings.Replace(string(index), "</body>", `<script>fetch('/api/held' + location.search)</script></body>`, 1)),
		"/api/held": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-g.get(r.URL.Query().Get("g")):
			case <-r.Context().Done():
			}
			io.WriteString(w, "{}")
		},
	}
	for _, p := range []string{"/static/app.js", "/static/app.css", "/static/logo.png", "/static/hero.png", "/static/font.woff2", "/api/products.json"} {
		pages[p] = files.ServeHTTP
	}
	return newSite(b, pages)
}

// cpuOf returns the CPU time a process used so far, from /proc.
func cpuOf(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// kindOf names a Chromium process by its --type and, for utilities, the
// service it hosts; top-chrome-webui marks renderers of the browser's own
// UI.
func kindOf(pid int) string {
	cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if len(cmd) == 0 {
		return ""
	}
	kind, sub := "browser", ""
	// Chromium's helpers rewrite their command line into one string.
	for _, a := range strings.FieldsFunc(string(cmd), func(r rune) bool { return r == 0 || r == ' ' }) {
		if v, ok := strings.CutPrefix(a, "--type="); ok {
			kind = v
		}
		if v, ok := strings.CutPrefix(a, "--utility-sub-type="); ok {
			sub = v
		}
		if a == "--top-chrome-webui" {
			sub = "top-chrome-webui"
		}
	}
	if sub != "" {
		return kind + " " + sub
	}
	return kind
}

// cpuSampler follows the CPU time of every process under a browser,
// including the short-lived renderers, by sampling /proc often: a
// process's time is lost to its reaper once it exits, so each one counts
// with its last sample.
type cpuSampler struct {
	mu    sync.Mutex
	kind  map[int]string
	first map[int]time.Duration
	last  map[int]time.Duration
	stop  chan struct{}
	done  chan struct{}
}

func sampleCPU(pid func() int) *cpuSampler {
	s := &cpuSampler{kind: map[int]string{}, first: map[int]time.Duration{}, last: map[int]time.Duration{}, stop: make(chan struct{}), done: make(chan struct{})}
	s.sample(pid(), true)
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				s.sample(pid(), false)
				return
			case <-t.C:
				s.sample(pid(), false)
			}
		}
	}()
	return s
}

func (s *cpuSampler) sample(root int, baseline bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range tree(root) {
		if _, ok := s.kind[p]; !ok {
			k := kindOf(p)
			if k == "" {
				continue
			}
			s.kind[p] = k
			if baseline {
				s.first[p] = cpuOf(p)
			}
		}
		if c := cpuOf(p); c > 0 {
			s.last[p] = c
		}
	}
}

// tree returns root and the processes below it, from the children lists
// of their threads: cheaper than reading every process's stat, so that
// sampling does not perturb what it measures.
func tree(root int) []int {
	out := []int{root}
	for i := 0; i < len(out); i++ {
		tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(out[i]) + "/task/*/children")
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, c := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(c); err == nil {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// finish stops sampling and returns the CPU time used since the start by
// each kind of process.
func (s *cpuSampler) finish() map[string]time.Duration {
	close(s.stop)
	<-s.done
	out := map[string]time.Duration{}
	for p, k := range s.kind {
		out[k] += max(0, s.last[p]-s.first[p])
	}
	return out
}

// selfCPU is this process's CPU time: the pool's Go code and the
// fixture's origin.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssKB returns a process's resident set size in KiB.
func rssKB(pid int) int64 {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkStages renders the SPA fixture b.N times, one at a time (run
// it with -benchtime=50x), and reports the mean time per render in each
// stage and the CPU time per render of each kind of Chromium process and
// of this process. It then holds one render in flight and logs
// Chromium's processes with their RSS.
func BenchmarkStages(b *testing.B) {
	for _, c := range []struct {
		name string
		warm int
	}{{"warm-tabs", 0}, {"one-warm-tab", 1}, {"no-warm-tabs", -1}} {
		b.Run(c.name, func(b *testing.B) { benchStages(b, c.warm) })
	}
}

func benchStages(b *testing.B, warm int) {
	g := newGates(b)
	s := spaSite(b, g)
	p, err := render.New(context.Background(), render.Options{Concurrency: 1, WarmTabs: warm, Policy: allowAll})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	for i := range 3 { // warm up: the first renders start Chromium's helpers
		renderOK(b, p, render.Request{URL: s.URL + "/?warm=" + strconv.Itoa(i)})
	}
	// First b.N renders for the stages, the latency and this process's
	// CPU, then b.N more for Chromium's CPU by process: sampling /proc
	// costs this process CPU of its own.
	before, beforeSelf := p.Stats(), selfCPU()
	b.ResetTimer()
	var lat []time.Duration
	for i := range b.N {
		t := time.Now()
		res := renderOK(b, p, render.Request{URL: s.URL + "/?i=" + strconv.Itoa(i)})
		lat = append(lat, time.Since(t))
		if !strings.Contains(string(res.Body), "fixture-ready-ms") {
			b.Fatalf("the page was taken before it was ready: %s", res.Body)
		}
	}
	b.StopTimer()
	after, afterSelf := p.Stats(), selfCPU()
	n := float64(b.N)
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	for name, d := range after.Stages {
		b.ReportMetric(float64(d-before.Stages[name])/float64(time.Millisecond)/n, name+"-ms")
	}
	self := afterSelf - beforeSelf
	b.ReportMetric(float64(self)/float64(time.Millisecond)/n, "go-cpu-ms")

	cpu := sampleCPU(p.BrowserPID)
	for i := range b.N {
		renderOK(b, p, render.Request{URL: s.URL + "/?j=" + strconv.Itoa(i)})
	}
	used := cpu.finish()
	var total time.Duration
	kinds := make([]string, 0, len(used))
	for k := range used {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		total += used[k]
		fmt.Printf("cpu per render: %-60s %6.1f ms\n", k, float64(used[k])/float64(time.Millisecond)/n)
	}
	fmt.Printf("cpu per render: %-60s %6.1f ms\n", "go (pool and the fixture's origin)", float64(self)/float64(time.Millisecond)/n)
	b.ReportMetric(float64(total)/float64(time.Millisecond)/n, "chromium-cpu-ms")

	// Chromium's processes while a render is in flight.
	held := make(chan error, 1)
	go func() {
		_, err := p.Render(context.Background(), render.Request{URL: s.URL + "/held?g=ps"})
		held <- err
	}()
	poll(b, "a render in flight", func() bool { return s.count("/api/held") == 1 })
	var rss int64
	for _, pid := range descendants(p.BrowserPID()) {
		rss += rssKB(pid)
		fmt.Printf("process %7d %-60s RSS %6.1f MiB\n", pid, kindOf(pid), float64(rssKB(pid))/1024)
	}
	fmt.Printf("%d processes, RSS %.1f MiB in all\n", len(descendants(p.BrowserPID())), float64(rss)/1024)
	g.open("ps")
	if err := <-held; err != nil {
		b.Fatal(fmt.Errorf("the held render: %w", err))
	}
}
