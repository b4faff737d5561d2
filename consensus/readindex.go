package consensus

import (
	"context"
	"sync"
	"time"
)

// readBatcher shares one barrier among concurrent fresh reads. A read may
// only use a barrier that started after it arrived (an earlier one might
// precede a write acknowledged just before the read), so reads that arrive
// while a barrier is in flight wait for the next one. Safe for concurrent
// use.
//
// Two batchers stack: one per node in front of the leader round trip, so
// that a flood of fresh reads on a follower (unknown API keys, say) costs
// one forwarded RPC at a time rather than one each, and one on the leader
// in front of raft's barrier, shared by all the nodes' RPCs.
type readBatcher struct {
	barrier func(context.Context) (uint64, error)
	timeout time.Duration   // bounds one barrier; the caller still waits on its own ctx
	base    context.Context // barriers run under it, not under any caller's: ends at shutdown

	mu      sync.Mutex
	pending []chan readResult
	running bool
}

type readResult struct {
	idx uint64
	err error
}

func (b *readBatcher) wait(ctx context.Context) (uint64, error) {
	ch := make(chan readResult, 1)
	b.mu.Lock()
	b.pending = append(b.pending, ch)
	if !b.running {
		b.running = true
		// The barrier runs detached from every caller: an impatient
		// caller must not fail the others sharing it.
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case r := <-ch:
		return r.idx, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (b *readBatcher) loop() {
	for {
		b.mu.Lock()
		batch := b.pending
		b.pending = nil
		if len(batch) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		bctx, cancel := context.WithTimeout(b.base, b.timeout)
		idx, err := b.barrier(bctx)
		cancel()
		if err != nil {
			// Only a success must be newer than the read; a failure
			// (no leader, say) is news to the reads that queued
			// meanwhile too, and makes them fail now instead of after
			// a second wait.
			b.mu.Lock()
			batch = append(batch, b.pending...)
			b.pending = nil
			b.mu.Unlock()
		}
		for _, ch := range batch {
			ch <- readResult{idx, err}
		}
	}
}
