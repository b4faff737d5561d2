package testcluster_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/testcluster"
)

// Each benchmark runs a fixed workload per iteration and reports its figures
// with b.ReportMetric; run with -benchtime=1x (make bench). The numbers go
// to docs/BENCHMARKS.md.

func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[int(float64(len(d)-1)*p)]
}

func benchCluster(b *testing.B, production bool) (*testcluster.Cluster, context.Context) {
	c := testcluster.New(b, 3, testcluster.Options{ProductionTimings: production})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	if _, err := c.WaitLeader(ctx); err != nil {
		b.Fatal(err)
	}
	return c, ctx
}

// BenchmarkWriteLatency measures sequential account creations through the
// HTTP API of a follower of a 3-node loopback cluster (forwarded to the
// leader, committed by a quorum, fsynced).
func BenchmarkWriteLatency(b *testing.B) {
	const writes = 1000
	c, ctx := benchCluster(b, true)
	f := (c.Leader() + 1) % 3
	for it := 0; it < b.N; it++ {
		lat := make([]time.Duration, 0, writes)
		for i := range writes {
			start := time.Now()
			resp, err := c.Do(ctx, f, http.MethodPost, "/admin/accounts", map[string]string{"email": fmt.Sprintf("lat-%d-%d@example.com", it, i), "plan": "free"})
			if err != nil || resp.Status != 201 {
				b.Fatalf("write: %v %v", resp, err)
			}
			lat = append(lat, time.Since(start))
		}
		b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkWriteThroughput32 measures writes/s with 32 concurrent clients
// spread over all three nodes.
func BenchmarkWriteThroughput32(b *testing.B) {
	const clients, perClient = 32, 100
	c, ctx := benchCluster(b, true)
	for it := 0; it < b.N; it++ {
		var wg sync.WaitGroup
		var failed atomic.Int64
		start := time.Now()
		for g := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perClient {
					resp, err := c.Do(ctx, g%3, http.MethodPost, "/admin/accounts", map[string]string{"email": fmt.Sprintf("tp-%d-%d-%d@example.com", it, g, i), "plan": "free"})
					if err != nil || resp.Status != 201 {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		el := time.Since(start)
		if failed.Load() > 0 {
			b.Fatalf("%d writes failed", failed.Load())
		}
		b.ReportMetric(float64(clients*perClient)/el.Seconds(), "writes/s")
	}
}

// BenchmarkLeaderFailover measures, with production raft and gossip
// timings, the time from killing the leader to the first successful write
// through a survivor.
func BenchmarkLeaderFailover(b *testing.B) {
	const rounds = 5
	c, ctx := benchCluster(b, true)
	for it := 0; it < b.N; it++ {
		var took []time.Duration
		for r := range rounds {
			l, err := c.WaitLeader(ctx)
			if err != nil {
				b.Fatal(err)
			}
			survivor := (l + 1) % 3
			start := time.Now()
			c.Kill(l)
			for k := 0; ; k++ {
				resp, err := c.Do(ctx, survivor, http.MethodPost, "/admin/accounts", map[string]string{"email": fmt.Sprintf("fo-%d-%d-%d@example.com", it, r, k), "plan": "free"})
				if err == nil && resp.Status == 201 {
					break
				}
				if ctx.Err() != nil {
					b.Fatal(ctx.Err())
				}
			}
			took = append(took, time.Since(start))
			if err := c.Restart(ctx, l); err != nil {
				b.Fatal(err)
			}
			if err := c.WaitConverged(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(percentile(took, 0.5).Milliseconds()), "median-ms")
		b.ReportMetric(float64(slices.Max(took).Milliseconds()), "max-ms")
	}
}

// BenchmarkUnknownKeyFlood measures how fast a follower refuses requests
// with well-formed but unknown API keys from 32 concurrent clients. Each
// such key takes a read index before it is refused (it may have been
// created on another node a moment ago), so this is the cost of a flood of
// guessed keys, and of the barrier batching that bounds it.
func BenchmarkUnknownKeyFlood(b *testing.B) {
	c, ctx := benchCluster(b, true)
	f := (c.Leader() + 1) % 3
	for range b.N {
		rps, lat := load(b, 32, 3*time.Second, func(client *http.Client) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.URL(f)+"/api/keys", nil)
			req.Header.Set("Authorization", "Bearer "+secret.New(apikey.LivePrefix))
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				return fmt.Errorf("an unknown key got %d, want 401", resp.StatusCode)
			}
			return nil
		})
		b.ReportMetric(rps, "refusals/s")
		b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	}
}
