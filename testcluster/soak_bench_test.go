package testcluster_test

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// BenchmarkSoak keeps Chromium rendering at full concurrency on a 3-node
// cluster with production raft and gossip timings for
// RENDERCACHE_SOAK_DURATION (default 5m), while a client makes one
// management write every 200 ms through the nodes in turn. It reports
// the elections held (target 0: renders must not starve the control
// plane) and the writes' latency. Run it with make bench-soak.
func BenchmarkSoak(b *testing.B) {
	d := 5 * time.Minute
	if v := os.Getenv("RENDERCACHE_SOAK_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			b.Fatalf("RENDERCACHE_SOAK_DURATION: %v", err)
		}
	}
	rb := newRenderBenchWith(b, testcluster.Options{ProductionTimings: true})
	for range b.N {
		r := soak(b, rb, d)
		b.ReportMetric(float64(r.leaderChanges), "leader-changes")
		b.ReportMetric(r.renders/d.Seconds(), "renders/s")
		b.ReportMetric(float64(r.renderErrors), "render-errors")
		b.ReportMetric(float64(len(r.writes)), "writes")
		b.ReportMetric(float64(r.writeErrors), "write-errors")
		b.ReportMetric(float64(percentile(r.writes, 0.50).Microseconds())/1000, "write-p50-ms")
		b.ReportMetric(float64(percentile(r.writes, 0.99).Microseconds())/1000, "write-p99-ms")
	}
}

type soakResult struct {
	leaderChanges int
	renders       float64
	renderErrors  int64
	writes        []time.Duration
	writeErrors   int
}

// maxTerm is the highest raft term any node has seen: every election,
// won or not, raises it, so its growth counts the leader changes.
func maxTerm(c *testcluster.Cluster) uint64 {
	var t uint64
	for i := range c.Size() {
		if n := c.Node(i); n != nil {
			t = max(t, n.Raft().Status().Term)
		}
	}
	return t
}

// soak runs the render load, the writer and the leader watch for d.
func soak(b *testing.B, rb *renderBench, d time.Duration) soakResult {
	var (
		res      soakResult
		wg       sync.WaitGroup
		renders  atomic.Int64
		failures atomic.Int64
		seq      atomic.Int64
	)
	stop := time.Now().Add(d)
	// Four crawlers per render slot keep every slot busy and the queue
	// full; each asks for a new page, so every request is a render.
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: time.Minute}
			for time.Now().Before(stop) {
				n := seq.Add(1)
				code, _, err := rb.get(client, w%3, fmt.Sprintf("/soak/%d", n))
				if err != nil || code != http.StatusOK {
					failures.Add(1)
					continue
				}
				renders.Add(1)
			}
		}()
	}
	term := maxTerm(rb.c)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; time.Now().Before(stop); i++ {
		<-tick.C
		start := time.Now()
		resp, err := testcluster.Do(rb.ctx, rb.c.URL(i%3), http.MethodPatch, "/api/domains/"+rb.host, "Bearer "+rb.key, map[string]int{"cacheTtl": 3600 + i%2})
		if err != nil || resp.Status != http.StatusOK {
			res.writeErrors++
			if res.writeErrors <= 5 {
				b.Logf("write %d on node %d failed after %s: %v %v", i, i%3, time.Since(start), resp, err)
			}
			continue
		}
		res.writes = append(res.writes, time.Since(start))
	}
	wg.Wait()
	res.leaderChanges = int(maxTerm(rb.c) - term)
	res.renders = float64(renders.Load())
	res.renderErrors = failures.Load()
	if len(res.writes) == 0 {
		b.Fatal("no management write succeeded")
	}
	return res
}
