package consensus

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A flood of fresh reads shares barriers, and no read is answered by a
// barrier that started before it arrived.
func TestReadBatcherSharesOnlyLaterBarriers(t *testing.T) {
	var started atomic.Uint64
	release := make(chan struct{})
	running := make(chan uint64, 16)
	b := &readBatcher{timeout: time.Minute, base: context.Background(), barrier: func(ctx context.Context) (uint64, error) {
		n := started.Add(1)
		running <- n
		<-release
		return n, nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The first read starts barrier 1.
	first := make(chan uint64, 1)
	go func() { idx, _ := b.wait(ctx); first <- idx }()
	if got := <-running; got != 1 {
		t.Fatalf("first barrier is %d", got)
	}
	// 100 reads arrive while barrier 1 runs: they must all wait for
	// barrier 2, and share it.
	const late = 100
	var wg sync.WaitGroup
	results := make(chan uint64, late)
	for range late {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idx, err := b.wait(ctx)
			if err != nil {
				t.Error(err)
			}
			results <- idx
		}()
	}
	// Wait until every late read is queued before releasing barrier 1.
	waitPending(t, b, late)
	close(release)
	if got := <-first; got != 1 {
		t.Fatalf("first read got barrier %d, want 1", got)
	}
	wg.Wait()
	close(results)
	for idx := range results {
		if idx != 2 {
			t.Fatalf("a read that arrived during barrier 1 got barrier %d, want 2", idx)
		}
	}
	if n := started.Load(); n != 2 {
		t.Fatalf("%d barriers ran for %d reads, want 2", n, late+1)
	}
}

// A read whose context ends stops waiting, and neither the barrier it
// started nor the reads sharing it fail with it.
func TestReadBatcherCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	running := make(chan struct{}, 1)
	b := &readBatcher{timeout: time.Minute, base: context.Background(), barrier: func(ctx context.Context) (uint64, error) {
		running <- struct{}{}
		select {
		case <-release:
			return 7, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}}
	impatient, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := b.wait(impatient); done <- err }()
	<-running // the impatient read's barrier is in flight
	patient := make(chan readResult, 1)
	go func() { idx, err := b.wait(context.Background()); patient <- readResult{idx, err} }()
	waitPending(t, b, 1)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled read returned no error")
	}
	close(release) // the first barrier succeeds although its starter left
	<-running      // and the patient read gets a barrier of its own
	if r := <-patient; r.err != nil || r.idx != 7 {
		t.Fatalf("the patient read got %d, %v; want 7", r.idx, r.err)
	}
}

// A failed barrier fails the reads that queued during it too, at once,
// instead of making them wait for a second failure.
func TestReadBatcherSharesFailures(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	running := make(chan struct{}, 1)
	b := &readBatcher{timeout: time.Minute, base: context.Background(), barrier: func(ctx context.Context) (uint64, error) {
		calls.Add(1)
		running <- struct{}{}
		<-release
		return 0, ErrNoLeader
	}}
	first := make(chan error, 1)
	go func() { _, err := b.wait(context.Background()); first <- err }()
	<-running
	late := make(chan error, 1)
	go func() { _, err := b.wait(context.Background()); late <- err }()
	waitPending(t, b, 1)
	close(release)
	for _, ch := range []chan error{first, late} {
		if err := <-ch; err != ErrNoLeader {
			t.Fatalf("read got %v, want ErrNoLeader", err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d barriers ran, want 1", n)
	}
}

// A barrier is bounded by the batcher's timeout and ended by its base
// context (shutdown), whatever its callers' deadlines.
func TestReadBatcherBounds(t *testing.T) {
	block := func(ctx context.Context) (uint64, error) { <-ctx.Done(); return 0, ctx.Err() }
	b := &readBatcher{timeout: 50 * time.Millisecond, base: context.Background(), barrier: block}
	if _, err := b.wait(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a stuck barrier ended with %v, want its timeout", err)
	}
	base, stop := context.WithCancel(context.Background())
	b = &readBatcher{timeout: time.Hour, base: base, barrier: block}
	done := make(chan error, 1)
	go func() { _, err := b.wait(context.Background()); done <- err }()
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a barrier at shutdown ended with %v, want context.Canceled", err)
	}
}

// waitPending polls until n reads are queued behind the running barrier.
func waitPending(t *testing.T, b *readBatcher, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		b.mu.Lock()
		got := len(b.pending)
		b.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reads queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
}
