package render_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/render"
)

// BenchmarkRender measures renders per second and render latency (queueing
// included) of a fixture page whose content arrives through fetch(), at
// concurrency 1, 2 and 4, each with a pool of that concurrency and as many
// clients. Run with -benchtime=Nx: N renders per sub-benchmark.
func BenchmarkRender(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/data" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"text":"product description"}`)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!DOCTYPE html><html><head><title>p</title></head><body><div id="app"></div>
<script>fetch('/api/data').then(r => r.json()).then(d => { document.getElementById('app').textContent = d.text })</script></body></html>`)
	}))
	defer srv.Close()
	for _, conc := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("concurrency-%d", conc), func(b *testing.B) {
			p, err := render.New(context.Background(), render.Options{Concurrency: conc, Policy: allowAll})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
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
						if _, err := p.Render(context.Background(), render.Request{URL: fmt.Sprintf("%s/p/%d", srv.URL, i)}); err != nil {
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
			el := time.Since(start)
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/el.Seconds(), "renders/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
