package render

import (
	"context"
	"slices"
	"sync"
	"time"
)

// slots bounds concurrent renders and orders the wait. Live renders go
// before Background ones. Within a priority, the wait is shared fairly
// between domains: a free slot goes to the waiting domain with the fewest
// renders running, and among equals to the one served least recently, so
// one domain's burst of 200 renders cannot keep a second domain's 5
// waiting behind it (round-robin when the slots are few, max-min
// fairness of the slots held when they are many); within a domain,
// first come first served.
//
// The wait queue is bounded so that an overloaded node refuses at once:
// in all (the last quarter of it for Live renders only) and per domain
// and priority. Safe for concurrent use.
type slots struct {
	mu        sync.Mutex
	n         int // slots in all
	free      int // slots nobody holds; n-free are held
	limit     int // the wait queue's bound
	perDomain int // the bound of one domain's wait at one priority
	seq       uint64
	queued    [numPriorities]int
	waiting   [numPriorities]map[string][]*waiter // FIFO per domain
	domains   map[string]*domainState             // domains waiting or running
	closed    bool

	// observe, when set, is told how long each granted caller waited.
	observe func(Priority, time.Duration)
	// refused counts the callers refused for a full queue, by priority
	// and by whether the whole queue or their domain's share was full.
	refused [numPriorities][2]int64
}

// numPriorities is the number of priorities, Live and Background.
const numPriorities = 2

// waiter is one caller in the wait queue.
type waiter struct {
	prio    Priority
	domain  string
	since   time.Time
	ready   chan struct{} // closed when the slot is handed over or the pool closes
	granted bool          // the slot was handed over (under slots.mu)
	queued  bool          // still in the queue (under slots.mu)
}

// domainState is what fairness knows of a domain.
type domainState struct {
	running int    // slots it holds
	waiting int    // its callers in the queue, every priority
	served  uint64 // when it last got a slot, or arrived (slots.seq)
}

// queueFullReason says which bound refused a caller.
type queueFullReason int

const (
	fullQueue  queueFullReason = iota // the whole queue (or Background's share of it)
	fullDomain                        // the domain's share at that priority
)

// newSlots returns n slots with a wait queue of at most queue callers,
// and at most perDomain of one domain at one priority.
func newSlots(n, queue, perDomain int) *slots {
	s := &slots{n: n, free: n, limit: queue, perDomain: perDomain, domains: map[string]*domainState{}}
	for p := range s.waiting {
		s.waiting[p] = map[string][]*waiter{}
	}
	return s
}

// queueFullError is ErrQueueFull with the bound that refused the caller.
type queueFullError struct{ reason queueFullReason }

func (e *queueFullError) Error() string { return ErrQueueFull.Error() }
func (e *queueFullError) Unwrap() error { return ErrQueueFull }

// acquire takes a slot for domain, waiting in line when none is free. It
// fails with an error matching ErrQueueFull when the line (or domain's
// share of it) is full, ErrClosed after close, or ctx's error. The caller
// must release the slot, naming the same domain.
func (s *slots) acquire(ctx context.Context, p Priority, domain string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	d := s.domain(domain)
	if s.free > 0 && s.total() == 0 {
		s.free--
		s.grantLocked(d)
		s.mu.Unlock()
		if s.observe != nil {
			s.observe(p, 0)
		}
		return nil
	}
	if full := s.fullLocked(p, domain); full != nil {
		s.refused[p][full.reason]++
		s.dropIfIdle(domain, d)
		s.mu.Unlock()
		return full
	}
	w := &waiter{prio: p, domain: domain, since: time.Now(), ready: make(chan struct{}), queued: true}
	s.waiting[p][domain] = append(s.waiting[p][domain], w)
	s.queued[p]++
	d.waiting++
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
		if w.queued {
			s.removeLocked(w)
			return ctx.Err()
		}
		if w.granted {
			// The slot was handed over as ctx ended: pass it on.
			s.releaseLocked(domain)
		}
		return ctx.Err()
	}
}

// fullLocked returns why p's caller of domain cannot queue, or nil.
func (s *slots) fullLocked(p Priority, domain string) *queueFullError {
	bound := s.limit
	if p != Live {
		bound -= s.limit / 4 // the rest is kept for live crawlers
	}
	switch {
	case s.total() >= bound:
		return &queueFullError{fullQueue}
	case len(s.waiting[p][domain]) >= s.perDomain:
		return &queueFullError{fullDomain}
	}
	return nil
}

// total returns how many callers wait.
func (s *slots) total() int {
	n := 0
	for _, q := range s.queued {
		n += q
	}
	return n
}

// domain returns the state of a domain, created when new.
func (s *slots) domain(name string) *domainState {
	d, ok := s.domains[name]
	if !ok {
		// A domain joins the rotation behind every domain served or
		// arrived before it, as in round-robin.
		s.seq++
		d = &domainState{served: s.seq}
		s.domains[name] = d
	}
	return d
}

// dropIfIdle forgets a domain that neither waits nor runs, so that the
// map holds only domains with work.
func (s *slots) dropIfIdle(name string, d *domainState) {
	if d.running == 0 && d.waiting == 0 {
		delete(s.domains, name)
	}
}

// grantLocked counts a slot as d's.
func (s *slots) grantLocked(d *domainState) {
	s.seq++
	d.running++
	d.served = s.seq
}

// removeLocked takes w out of the queue.
func (s *slots) removeLocked(w *waiter) {
	q := s.waiting[w.prio][w.domain]
	if i := slices.Index(q, w); i >= 0 {
		q = slices.Delete(q, i, i+1)
	}
	if len(q) == 0 {
		delete(s.waiting[w.prio], w.domain)
	} else {
		s.waiting[w.prio][w.domain] = q
	}
	w.queued = false
	s.queued[w.prio]--
	d := s.domains[w.domain]
	d.waiting--
	s.dropIfIdle(w.domain, d)
}

// release returns domain's slot, handing it to the next in line.
func (s *slots) release(domain string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(domain)
}

// releaseLocked frees domain's slot and hands it to the next in line: the
// most urgent priority with callers waiting, and in it the domain with
// the fewest slots, served least recently among equals.
func (s *slots) releaseLocked(domain string) {
	if d, ok := s.domains[domain]; ok {
		d.running--
		s.dropIfIdle(domain, d)
	}
	if s.closed {
		s.free++
		return
	}
	for p := range s.waiting {
		var next string
		var best *domainState
		for name := range s.waiting[p] {
			d := s.domains[name]
			if best == nil || d.running < best.running || (d.running == best.running && d.served < best.served) {
				next, best = name, d
			}
		}
		if best == nil {
			continue
		}
		w := s.waiting[p][next][0]
		s.removeLocked(w)
		s.grantLocked(s.domain(next))
		w.granted = true
		close(w.ready)
		if s.observe != nil {
			s.observe(w.prio, time.Since(w.since))
		}
		return
	}
	s.free++
}

// close fails everyone waiting; renders holding slots finish on their own.
func (s *slots) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for p := range s.waiting {
		for _, q := range s.waiting[p] {
			for _, w := range q {
				w.queued = false
				close(w.ready)
			}
		}
		clear(s.waiting[p])
		s.queued[p] = 0
	}
	for name, d := range s.domains {
		d.waiting = 0
		s.dropIfIdle(name, d)
	}
}

// queueStats is a snapshot of the wait, for metrics.
type queueStats struct {
	queued  [numPriorities]int      // callers waiting
	domains [numPriorities]int      // domains with callers waiting
	refused [numPriorities][2]int64 // by queueFullReason
	active  int
}

// stats returns the wait now.
func (s *slots) stats() queueStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := queueStats{queued: s.queued, refused: s.refused, active: s.n - s.free}
	for p := range s.waiting {
		st.domains[p] = len(s.waiting[p])
	}
	return st
}

// counts returns the queue length and the renders holding a slot.
func (s *slots) counts() (queued, active int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total(), s.n - s.free
}
