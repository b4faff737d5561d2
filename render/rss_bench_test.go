package render_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/render"
)

// memKB returns a process's proportional set size in KiB (resident
// memory with shared pages split between their sharers, so that summing
// Chromium's processes does not count its shared libraries once per
// process), 0 if it is gone.
func memKB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// descendants returns pid and every process below it.
func descendants(pid int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		p, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
		children[ppid] = append(children[ppid], p)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// BenchmarkRSSAfter1000Renders renders a fixture page 1,000 times (4 at a
// time) and reports the memory (PSS) of this process and of Chromium with
// all its child processes.
func BenchmarkRSSAfter1000Renders(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!DOCTYPE html><html><body><div id="app"></div><script>document.getElementById('app').innerHTML='<h1>Product</h1><p>'+'x'.repeat(20000)+'</p>'</script></body></html>`)
	}))
	defer srv.Close()
	pool, err := render.New(context.Background(), render.Options{Concurrency: 4, Policy: origin.Policy{AllowPrivate: true}})
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	for range b.N {
		var wg sync.WaitGroup
		work := make(chan int)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					if _, err := pool.Render(context.Background(), render.Request{URL: fmt.Sprintf("%s/p/%d", srv.URL, i)}); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for i := range 1000 {
			work <- i
		}
		close(work)
		wg.Wait()
		var chrome int64
		procs := descendants(pool.BrowserPID())
		for _, p := range procs {
			chrome += memKB(p)
		}
		b.ReportMetric(float64(memKB(os.Getpid()))/1024, "node-pss-MiB")
		b.ReportMetric(float64(chrome)/1024, "chromium-pss-MiB")
		b.ReportMetric(float64(len(procs)), "chromium-procs")
	}
}
