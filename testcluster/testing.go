package testcluster

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/api/contract"
)

// New starts an n-node cluster for a test and closes it when the test ends,
// then checks that the nodes left no goroutines behind. It fails the test
// if the cluster does not form within a minute.
//
// In tests (not benchmarks, which measure the API as it runs in
// production) every node's public handler checks each request and answer
// against the OpenAPI contract (api/openapi.yaml) and fails the test with
// tb.Errorf on a mismatch; contract.Checker.Wrap says what is checked and
// what is exempt (the serve path's host-routed traffic among it).
func New(tb testing.TB, n int, opts Options) *Cluster {
	tb.Helper()
	before := runtime.NumGoroutine()
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
	}
	if _, bench := tb.(*testing.B); !bench {
		checker, err := contract.Default()
		if err != nil {
			tb.Fatalf("testcluster: %v", err)
		}
		opts.wrapPublic = func(own string) func(http.Handler) http.Handler {
			return checker.Wrap(own, tb.Errorf)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, n, opts)
	if err != nil {
		tb.Fatalf("start cluster: %v", err)
	}
	tb.Cleanup(func() {
		c.Close()
		CloseIdleConnections()
		checkLeaks(tb, before)
	})
	return c
}

// checkLeaks fails tb when goroutines started by the cluster are still
// running after a grace period. Stacks of the survivors are printed.
func checkLeaks(tb testing.TB, before int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// Idle HTTP keep-alive connections of test clients and finished
		// timers may linger briefly; allow a small slack.
		if runtime.NumGoroutine() <= before+3 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling, not synchronisation
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var ours []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		// The renderer is the test package's, shared by its clusters and
		// closed by its TestMain, not the cluster's: its browser
		// supervisor and warm tabs outlive every cluster by design.
		if strings.Contains(g, "rendercache/render.") {
			continue
		}
		if strings.Contains(g, "rendercache/") || strings.Contains(g, "hashicorp/") || strings.Contains(g, "cockroachdb/pebble") {
			ours = append(ours, g)
		}
	}
	if len(ours) > 0 {
		tb.Errorf("goroutine leak: %d goroutines before, %d after; cluster goroutines still running:\n%s", before, runtime.NumGoroutine(), strings.Join(ours, "\n\n"))
	}
}
