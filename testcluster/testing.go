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
	before := len(clusterGoroutines())
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
		ours := clusterGoroutines()
		if len(ours) <= before {
			return
		}
		if time.Now().After(deadline) {
			tb.Errorf("goroutine leak: %d of ours before, %d after; still running:\n%s", before, len(ours), strings.Join(ours, "\n\n"))
			return
		}
		time.Sleep(50 * time.Millisecond) // polling, not synchronisation
	}
}

// clusterGoroutines returns the stacks of goroutines running our code,
// raft's, memberlist's or Pebble's: what a cluster starts. Others (test
// clients' idle connections, timers) are not a cluster's to stop. The
// renderer is left out too: it is the test package's, shared by its
// clusters and closed by its TestMain, and its browser supervisor and
// warm tabs outlive every cluster by design. So are raft's readers of
// accepted connections, which outlive its transport (see below).
func clusterGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var ours []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "rendercache/render.") {
			continue
		}
		// raft's NetworkTransport.Close closes its listener but not the
		// connections it accepted: their readers end when the peer's
		// pooled connection closes, which raft leaves to the OS. They
		// hold no state of the stopped node.
		if strings.Contains(g, "raft.(*NetworkTransport).handleConn") {
			continue
		}
		if strings.Contains(g, "rendercache/") || strings.Contains(g, "hashicorp/") || strings.Contains(g, "cockroachdb/pebble") {
			ours = append(ours, g)
		}
	}
	return ours
}
