package testcluster_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/testcluster"
)

// renderBench is a 3-node cluster with a browser, one agency account and
// its domain www.bench.test served by a local origin.
type renderBench struct {
	c    *testcluster.Cluster
	ctx  context.Context
	key  string
	host string
}

const benchBot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

func newRenderBench(b *testing.B) *renderBench { return newRenderBenchWith(b, testcluster.Options{}) }

// newRenderBenchWith is newRenderBench on a cluster with opts (the
// renderer is set here).
func newRenderBenchWith(b *testing.B, opts testcluster.Options) *renderBench {
	pool, err := render.New(context.Background(), render.Options{Concurrency: 2, Policy: origin.Policy{AllowPrivate: true}})
	if err != nil {
		b.Fatal(err)
	}
	body := `<!DOCTYPE html><html><head><title>bench</title></head><body><div id="app"></div><script>document.getElementById('app').innerHTML='<h1>Product</h1><p>'+'x'.repeat(20000)+'</p>'</script></body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, body)
	}))
	b.Cleanup(srv.Close)
	opts.Renderer = pool
	c := testcluster.New(b, 3, opts)
	// Registered after the cluster, so it runs before the cluster's
	// goroutine check.
	b.Cleanup(func() { pool.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	b.Cleanup(cancel)
	if _, err := c.WaitLeader(ctx); err != nil {
		b.Fatal(err)
	}
	resp, err := c.Do(ctx, 0, "POST", "/admin/accounts", map[string]string{"email": "bench@example.com", "plan": "enterprise"})
	if err != nil || resp.Status != 201 {
		b.Fatalf("account: %v %v", resp, err)
	}
	id := resp.JSON()["id"].(string)
	resp, err = c.Do(ctx, 0, "POST", "/admin/accounts/"+id+"/api-keys", map[string]any{"name": "bench", "roles": []string{}})
	if err != nil || resp.Status != 201 {
		b.Fatalf("key: %v %v", resp, err)
	}
	rb := &renderBench{c: c, ctx: ctx, key: resp.JSON()["key"].(string), host: "www.bench.test"}
	resp, err = testcluster.Do(ctx, c.URL(0), "POST", "/api/domains", "Bearer "+rb.key, map[string]string{"domain": rb.host, "origin": srv.URL})
	if err != nil || resp.Status != 201 {
		b.Fatalf("domain: %v %v", resp, err)
	}
	if err := c.WaitRing(ctx); err != nil {
		b.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		b.Fatal(err)
	}
	return rb
}

func (rb *renderBench) get(client *http.Client, node int, path string) (int, string, error) {
	req, _ := http.NewRequestWithContext(rb.ctx, "GET", rb.c.URL(node)+path, nil)
	req.Host = rb.host
	req.Header.Set("User-Agent", benchBot)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Cache-Status"), nil
}

// load runs requests from clients goroutines for d and returns req/s and
// every request's latency.
func load(b *testing.B, clients int, d time.Duration, do func(client *http.Client) error) (float64, []time.Duration) {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer client.CloseIdleConnections()
			var mine []time.Duration
			for time.Now().Before(stop) {
				t := time.Now()
				if err := do(client); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if len(lat) == 0 {
		b.Fatal("no request succeeded")
	}
	return float64(len(lat)) / el.Seconds(), lat
}

// BenchmarkCacheHit measures cache-hit requests per second and p99 with 32
// concurrent clients, against the key's owner and through a non-owner.
func BenchmarkCacheHit(b *testing.B) {
	rb := newRenderBench(b)
	const path = "/product/1"
	if st, cs, err := rb.get(http.DefaultClient, 0, path); err != nil || st != 200 {
		b.Fatalf("warm: %d %s %v", st, cs, err)
	}
	d, _ := domain.Lookup(rb.c.Node(0).State(), rb.host)
	owner, _ := rb.c.Node(0).Ring().Owner(rb.c.Node(0).Pages().KeyFor(d, render.Desktop, path).String())
	oi := rb.c.Index(owner)
	b.Run("nginx-same-bytes", func(b *testing.B) { benchNginx(b, rb, path) })
	for _, tc := range []struct {
		name string
		node int
	}{{"owner", oi}, {"non-owner", (oi + 1) % 3}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				rps, lat := load(b, 32, 5*time.Second, func(client *http.Client) error {
					st, cs, err := rb.get(client, tc.node, path)
					if err != nil || st != 200 || !strings.HasPrefix(cs, "rendercache; hit") {
						return fmt.Errorf("hit: %d %q %v", st, cs, err)
					}
					return nil
				})
				b.ReportMetric(rps, "req/s")
				b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// BenchmarkPurgeVisibility measures the purge request's latency through a
// follower: it returns only once every live node applied the version
// bump, so this is the time from the request to every node answering a
// miss. A sample of purges checks that the next request, on a node other
// than the one that took the purge, is indeed a miss (after that miss the
// page is cached again cluster-wide, so one node is all a sample can ask).
func BenchmarkPurgeVisibility(b *testing.B) {
	rb := newRenderBench(b)
	const purges = 200
	for range b.N {
		var lat []time.Duration
		for i := range purges {
			if i%50 == 0 {
				rb.get(http.DefaultClient, 0, "/p")
			}
			start := time.Now()
			resp, err := testcluster.Do(rb.ctx, rb.c.URL(1), "POST", "/api/cache/purge", "Bearer "+rb.key, map[string]string{"domain": rb.host, "path": "/p"})
			if err != nil || resp.Status != 200 {
				b.Fatalf("purge: %v %v", resp, err)
			}
			lat = append(lat, time.Since(start))
			if i%50 == 0 {
				if _, cs, _ := rb.get(http.DefaultClient, 2, "/p"); !strings.Contains(cs, "fwd=miss") {
					b.Fatalf("node 2 after purge %d: %q", i, cs)
				}
			}
		}
		b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkList10k measures GET /api/cache/list for a domain with 10,000
// cached pages spread over the nodes' L2 by owner, at the default page
// size (1,000) and the largest (10,000).
func BenchmarkList10k(b *testing.B) {
	rb := newRenderBench(b)
	d, _ := domain.Lookup(rb.c.Node(0).State(), rb.host)
	now := time.Now()
	for i := range 10000 {
		url := fmt.Sprintf("/catalog/item-%05d", i)
		k := rb.c.Node(0).Pages().KeyFor(d, render.Desktop, url)
		owner, _ := rb.c.Node(0).Ring().Owner(k.String())
		p := page.Page{Status: 200, Body: []byte("<html>cached</html>"), Rendered: true, RenderedAt: now, RenderedBy: owner}
		if err := rb.c.Node(rb.c.Index(owner)).PageStore().Put(k.StoreKey(), p.Encode(), now.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	for _, limit := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("limit-%d", limit), func(b *testing.B) {
			for range b.N {
				var lat []time.Duration
				for range 20 {
					start := time.Now()
					resp, err := testcluster.Do(rb.ctx, rb.c.URL(1), "GET", fmt.Sprintf("/api/cache/list/%s?limit=%d", rb.host, limit), "Bearer "+rb.key, nil)
					if err != nil || resp.Status != 200 {
						b.Fatalf("list: %v %v", resp, err)
					}
					if n := resp.JSON()["cachedPages"].(float64); int(n) != limit {
						b.Fatalf("listed %v pages, want %d", n, limit)
					}
					lat = append(lat, time.Since(start))
				}
				b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// benchNginx serves the rendered page's bytes from a file with nginx and
// loads it with the same generator, as a yardstick. It needs nginx on
// PATH (apt-get install nginx-light).
func benchNginx(b *testing.B, rb *renderBench, path string) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		b.Skip("nginx not installed")
	}
	req, _ := http.NewRequest("GET", rb.c.URL(0)+path, nil)
	req.Host = rb.host
	req.Header.Set("User-Agent", benchBot)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "page.html"), body, 0o644); err != nil {
		b.Fatal(err)
	}
	addr, err := testcluster.FreeAddr(false)
	if err != nil {
		b.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the worker must read the temp dir
	}
	conf := fmt.Sprintf(user+`daemon off; worker_processes 1; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen %[2]s; root %[1]s; location / { try_files /page.html =404; } } }
`, dir, addr)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r, err := http.Get("http://" + addr + path); err == nil {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("nginx did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range b.N {
		rps, lat := load(b, 32, 5*time.Second, func(client *http.Client) error {
			r, err := client.Get("http://" + addr + path)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			if r.StatusCode != 200 {
				return fmt.Errorf("nginx: %d", r.StatusCode)
			}
			return nil
		})
		b.ReportMetric(rps, "req/s")
		b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	}
}
