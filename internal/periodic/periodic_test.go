package periodic_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/periodic"
)

// Run calls f repeatedly and returns once its context ends, without
// calling f again.
func TestRunRepeatsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	done := make(chan struct{})
	go func() {
		periodic.Run(ctx, time.Millisecond, func(context.Context) {
			if calls.Add(1) == 3 {
				cancel()
			}
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after its context ended")
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("f ran %d times, want 3 (none after cancel)", n)
	}
}
