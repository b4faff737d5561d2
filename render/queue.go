package render

import (
	"container/heap"
	"context"
	"sync"
)

// slots bounds concurrent renders and orders the wait: Live before
// Background, first come first served within a priority. The wait queue is
// bounded so that an overloaded node refuses at once. Safe for concurrent
// use.
type slots struct {
	mu      sync.Mutex
	n       int    // slots in all
	free    int    // slots nobody holds; n-free are held
	limit   int    // the wait queue's bound
	seq     uint64 // arrivals, for FIFO order within a priority
	waiting waitHeap
	closed  bool
}

// waiter is one caller in the wait queue.
type waiter struct {
	prio    Priority
	seq     uint64
	ready   chan struct{} // closed when the slot is handed over or the pool closes
	granted bool          // the slot was handed over (under slots.mu)
	index   int           // in the heap; -1 once removed
}

// newSlots returns n slots with a wait queue of at most queue callers.
func newSlots(n, queue int) *slots { return &slots{n: n, free: n, limit: queue} }

// acquire takes a slot, waiting in line when none is free. It fails with
// ErrQueueFull when the line is full, ErrClosed after close, or ctx's error.
func (s *slots) acquire(ctx context.Context, p Priority) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.free > 0 && len(s.waiting) == 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	if len(s.waiting) >= s.limit {
		s.mu.Unlock()
		return ErrQueueFull
	}
	s.seq++
	w := &waiter{prio: p, seq: s.seq, ready: make(chan struct{})}
	heap.Push(&s.waiting, w)
	s.mu.Unlock()

	select {
	case <-w.ready:
		s.mu.Lock()
		defer s.mu.Unlock()
		if !w.granted {
			return ErrClosed
		}
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		if w.index >= 0 {
			heap.Remove(&s.waiting, w.index)
			return ctx.Err()
		}
		if w.granted {
			// The slot was handed over as ctx ended: pass it on.
			s.releaseLocked()
		}
		return ctx.Err()
	}
}

// release returns a slot, handing it to the first in line.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked()
}

// releaseLocked hands the slot to the first in line, or frees it.
func (s *slots) releaseLocked() {
	if len(s.waiting) > 0 && !s.closed {
		w := heap.Pop(&s.waiting).(*waiter)
		w.granted = true
		close(w.ready)
		return
	}
	s.free++
}

// close fails everyone waiting; renders holding slots finish on their own.
func (s *slots) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for len(s.waiting) > 0 {
		close(heap.Pop(&s.waiting).(*waiter).ready)
	}
}

// counts returns the queue length and the renders holding a slot.
func (s *slots) counts() (queued, active int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting), s.n - s.free
}

// waitHeap orders waiters by priority, then arrival.
type waitHeap []*waiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].prio != h[j].prio {
		return h[i].prio < h[j].prio
	}
	return h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}
