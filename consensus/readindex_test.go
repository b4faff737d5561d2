package consensus

import (
	"context"
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
	b := &readBatcher{timeout: time.Minute, barrier: func(ctx context.Context) (uint64, error) {
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
	for {
		b.mu.Lock()
		n := len(b.pending)
		b.mu.Unlock()
		if n == late {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("only %d reads queued", n)
		case <-time.After(time.Millisecond):
		}
	}
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

// A read whose context ends stops waiting without failing the others.
func TestReadBatcherCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	b := &readBatcher{timeout: time.Minute, barrier: func(ctx context.Context) (uint64, error) {
		<-release
		return 7, nil
	}}
	impatient, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := b.wait(impatient); done <- err }()
	patient := make(chan uint64, 1)
	go func() { idx, _ := b.wait(context.Background()); patient <- idx }()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled read returned no error")
	}
	close(release)
	if idx := <-patient; idx != 7 {
		t.Fatalf("the patient read got %d, want 7", idx)
	}
}
