package render_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/render"
)

// benchSite serves the benchmarks' fixture: a page whose content arrives
// through fetch(), like a typical single-page app.
func benchSite(b *testing.B) *site {
	return newSite(b, map[string]http.HandlerFunc{
		"/api/data": typed("application/json", `{"text":"product description"}`),
		"/p": html(`<!DOCTYPE html><html><head><title>p</title></head><body><div id="app"></div>
<script>fetch('/api/data').then(r => r.json()).then(d => { document.getElementById('app').innerHTML = '<h1>Product</h1><p>' + d.text.repeat(200) + '</p>' })</script></body></html>`),
	})
}

// BenchmarkRender measures renders per second and render latency
// (queueing included) of the fixture page at concurrency 1, 2 and 4, each
// with a pool of that concurrency and as many clients. Run it with
// -benchtime=Nx: N renders per sub-benchmark. Each render waits for
// Options.IdleTime (500ms) of network quiet, which bounds one slot's rate.
func BenchmarkRender(b *testing.B) {
	s := benchSite(b)
	for _, conc := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("concurrency-%d", conc), func(b *testing.B) {
			p, err := render.New(context.Background(), render.Options{Concurrency: conc, Policy: allowAll})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			renderOK(b, p, render.Request{URL: s.URL + "/p?warm"})
			var mu sync.Mutex
			var lat []time.Duration
			var wg sync.WaitGroup
			work := make(chan int)
			b.ResetTimer()
			start := time.Now()
			for range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range work {
						t := time.Now()
						if _, err := p.Render(context.Background(), render.Request{URL: s.URL + "/p?i=" + strconv.Itoa(i)}); err != nil {
							b.Error(err)
						}
						mu.Lock()
						lat = append(lat, time.Since(t))
						mu.Unlock()
					}
				}()
			}
			for i := range b.N {
				work <- i
			}
			close(work)
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "renders/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkMemory renders the SPA fixture b.N times (4 at a time) on one
// browser with the memory ceiling off, and reports the memory of this
// process (the node's share) plus Chromium with all its helper processes
// at render b.N/2 and at render b.N, both as RSS and as PSS (resident
// memory with shared pages split between processes), and the growth
// between the two: the ceiling exists for growth, and a renderer that
// kept what each page left would show here. Run it with
// -benchtime=1000x for render 500 against render 1,000.
func BenchmarkMemory(b *testing.B) {
	g := newGates(b)
	s := spaSite(b, g)
	p, err := render.New(context.Background(), render.Options{Concurrency: 4, Policy: allowAll, MemoryLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	type mem struct{ rss, pss float64 }
	measure := func() mem {
		// Measure between renders, once the warm tabs are back and the
		// rendered ones closed: a renderer each for the first blank tab
		// and the two warm ones.
		poll(b, "the warm tabs alone", func() bool {
			renderers := 0
			for _, pid := range descendants(p.BrowserPID()) {
				if kindOf(pid) == "renderer" {
					renderers++
				}
			}
			return p.Stats().Warm == 2 && renderers == 3
		})
		var m mem
		for _, pid := range append(descendants(p.BrowserPID()), os.Getpid()) {
			m.rss += float64(rssKB(pid)) / 1024
			m.pss += float64(render.ProcessPSS(pid)) / (1 << 20)
		}
		return m
	}
	run := func(from, to int) {
		var wg sync.WaitGroup
		work := make(chan int)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					if _, err := p.Render(context.Background(), render.Request{URL: s.URL + "/?i=" + strconv.Itoa(i)}); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for i := from; i < to; i++ {
			work <- i
		}
		close(work)
		wg.Wait()
	}
	run(0, b.N/2)
	half := measure()
	run(b.N/2, b.N)
	end := measure()
	b.StopTimer()
	b.ReportMetric(half.rss, "rss-half-MiB")
	b.ReportMetric(end.rss, "rss-end-MiB")
	b.ReportMetric(half.pss, "pss-half-MiB")
	b.ReportMetric(end.pss, "pss-end-MiB")
	b.ReportMetric(100*(end.rss-half.rss)/half.rss, "rss-growth-%")
	b.ReportMetric(100*(end.pss-half.pss)/half.pss, "pss-growth-%")
	b.ReportMetric(float64(len(descendants(p.BrowserPID()))), "chromium-procs")
}
