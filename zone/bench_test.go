package zone_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The figures of docs/BENCHMARKS.md for zones, on a 3-node cluster in
// one process:
//
//	go test -run '^$' -bench 'BenchmarkZone' -benchtime 1x ./zone/
//
// They are benchmarks, never tests: timings depend on the machine.

// BenchmarkZoneMisses200 sends 200 concurrent requests for one new
// object, spread over the 3 nodes, and reports how many times the origin
// was asked (origin-fetches; the cluster's single flight makes it 1).
func BenchmarkZoneMisses200(b *testing.B) {
	fx := newFixture(b)
	var fetches []int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		path := fmt.Sprintf("/miss/%d/app.css", i)
		var wg sync.WaitGroup
		for j := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(fx.ctx, "GET", fx.c.URL(j%3)+path, nil)
				req.Host = fx.host
				resp, err := rawClient.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
		wg.Wait()
		fetches = append(fetches, fx.o.count(path))
	}
	b.ReportMetric(float64(slices.Max(fetches)), "origin-fetches")
}

// BenchmarkZonePurgeToMiss purges one object 200 times through a
// follower (each purge confirmed by every node) and times each from the
// purge request until every node has answered the next request for the
// object, which the cluster fetched again exactly once; it reports the
// p50 and p99 in milliseconds.
func BenchmarkZonePurgeToMiss(b *testing.B) {
	fx := newFixture(b)
	// 200 purges spend more than one key's 100 requests per minute.
	var keys []string
	for i := range 3 {
		keys = append(keys, fx.newKey(fmt.Sprintf("purger%d", i)))
	}
	const path = "/purge/app.css"
	for i := range 3 {
		fx.get(i, fx.host, path)
	}
	// 200 purges in all, however many rounds the harness asks for: each
	// round does its share (the keys' rate limits allow about 300).
	per := max(1, 200/b.N)
	var took []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range per {
			start := time.Now()
			resp := fx.apiWith(keys[len(took)%len(keys)], fx.f, "GET", "/v1/purge?zone="+fx.zone+"&path="+path, nil)
			if resp.Status != 200 {
				b.Fatalf("purge %d: %s", len(took), resp)
			}
			before := fx.o.count(path)
			var wg sync.WaitGroup
			for node := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if resp := fx.get(node, fx.host, path); resp.Status != 200 {
						b.Errorf("node %d after purge %d: %s", node, i, resp)
					}
				}()
			}
			wg.Wait()
			took = append(took, time.Since(start))
			// Every node asked after the purge, and the cluster fetched
			// the object again exactly once.
			if got := fx.o.count(path); got != before+1 {
				b.Fatalf("purge %d: %d origin fetches after it, want 1", len(took), got-before)
			}
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

// newKey creates another live key of the fixture's account.
func (fx *fixture) newKey(name string) string {
	fx.t.Helper()
	ctx, cancel := context.WithTimeout(fx.ctx, 30*time.Second)
	defer cancel()
	resp, err := fx.c.Do(ctx, fx.f, "POST", "/admin/accounts/"+fx.account+"/api-keys", map[string]any{"name": name})
	if err != nil || resp.Status != 201 {
		fx.t.Fatalf("create key: %v %v", resp, err)
	}
	return resp.JSON()["key"].(string)
}

// BenchmarkZoneHit serves the same bytes as a zone asset hit and from a
// bare net/http server, in the same run, with the same client: 32 KB of
// CSS (compressible: gzip when asked) and 1 MB of PNG. Compare the two
// sub-benchmarks' ns/op.
func BenchmarkZoneHit(b *testing.B) {
	fx := newFixture(b)
	for _, tc := range []struct {
		path string
		size int
	}{{"/bench/app.css", 32 << 10}, {"/bench/logo.png", 1 << 20}} {
		fx.o.setBody(tc.path, strings.Repeat("a{color:red}", tc.size/12+1)[:tc.size])
		body := fx.get(0, fx.host, tc.path).Body
		if len(body) != tc.size {
			b.Fatalf("%s: %d bytes", tc.path, len(body))
		}
		bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/css")
			w.Write(body)
		}))
		b.Cleanup(bare.Close)
		run := func(b *testing.B, url, host string) {
			tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr}
			b.SetBytes(int64(tc.size))
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", url, nil)
					req.Host = host
					resp, err := cl.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		b.Run(fmt.Sprintf("zone%s", tc.path), func(b *testing.B) { run(b, fx.c.URL(0)+tc.path, fx.host) })
		b.Run(fmt.Sprintf("bare%s", tc.path), func(b *testing.B) { run(b, bare.URL+tc.path, "") })
	}
}
