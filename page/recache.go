package page

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/periodic"
	"github.com/rendercache/rendercache/render"
)

// RecacheConfig bounds proactive recache on one node. Zero fields take
// the defaults.
type RecacheConfig struct {
	// Rate bounds recache renders (and guard retries) per second on the
	// node (default 2), DomainRate per domain (default 0.5, one every
	// 2 s).
	Rate, DomainRate float64
	// Concurrency bounds recache renders in flight on the node (default
	// 2), so background work never fills the render queue.
	Concurrency int
	// MaxPages bounds the pages the node's index holds (default 50,000):
	// past it, newly crawled pages are not indexed (they still revalidate
	// when stale).
	MaxPages int
	// Tick is how often due pages are looked for (default 1 s).
	Tick time.Duration
}

func (c RecacheConfig) withDefaults() RecacheConfig {
	if c.Rate <= 0 {
		c.Rate = 2
	}
	if c.DomainRate <= 0 {
		c.DomainRate = 0.5
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 2
	}
	if c.MaxPages <= 0 {
		c.MaxPages = 50000
	}
	if c.Tick <= 0 {
		c.Tick = time.Second
	}
	return c
}

// Bounds of one tick's work and of the per-domain limiters kept.
const (
	maxDuePerTick     = 256
	maxDomainLimiters = 10000
	// busyDelay is how long a page waits when the render queue was full.
	busyDelay = 5 * time.Second
)

// recacher is a node's recache index: the pages crawlers requested that
// this node owns, ordered by when they are due for a re-render (their
// render time plus the TTL less the domain's lead), oldest first. Guard
// retries go through it too. A tick takes the due pages off the heap, so
// no tick scans the cache. Safe for concurrent use.
type recacher struct {
	s   *Service
	cfg RecacheConfig

	mu      sync.Mutex
	entries map[string]*entry // store key → entry
	due     dueHeap
	limits  map[string]*rate.Limiter // domain → its rate
	node    *rate.Limiter
	slots   chan struct{}

	dropped atomic.Int64 // pages not indexed because the index was full
}

// entry is one indexed page.
type entry struct {
	key        Key
	renderedAt time.Time // of the copy in L2
	askedAt    time.Time // the last crawler request seen (zero: none)
	dueAt      time.Time
	retry      bool // due for a guard retry, whoever asked
	index      int  // in the heap; -1 while off it
	// busy: a tick took the entry off the heap (to check or render it);
	// it goes back when that ends.
	busy bool
}

func newRecacher(s *Service, cfg RecacheConfig) *recacher {
	cfg = cfg.withDefaults()
	return &recacher{
		s: s, cfg: cfg,
		entries: map[string]*entry{},
		limits:  map[string]*rate.Limiter{},
		node:    rate.NewLimiter(rate.Limit(cfg.Rate), int(max(1, cfg.Rate))),
		slots:   make(chan struct{}, cfg.Concurrency),
	}
}

// dueAt returns when a page rendered at renderedAt is due: lead × TTL
// before it expires, and no later than one cache generation (bucketFor)
// plus a render's allowance before it: the other nodes take the new page
// at the next generation, and crawlers must not meet the old one past its
// TTL meanwhile. At most half the TTL early.
func dueAt(renderedAt time.Time, d domain.Domain) time.Time {
	ttl := TTL(d)
	lead := time.Duration(d.Recache.LeadFraction * float64(ttl))
	lead = max(lead, min(bucketFor(ttl)+busyDelay, ttl/2))
	return renderedAt.Add(ttl - lead)
}

// asked records that a crawler requested k, whose L2 copy was rendered at
// renderedAt.
func (r *recacher) asked(k Key, d domain.Domain, renderedAt, now time.Time) {
	if !d.Recache.Enabled {
		return
	}
	sk := k.StoreKey()
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[sk]
	if !ok {
		if len(r.entries) >= r.cfg.MaxPages {
			r.dropped.Add(1)
			return
		}
		e = &entry{key: k, index: -1}
		r.entries[sk] = e
	}
	e.askedAt = now
	if renderedAt.After(e.renderedAt) {
		e.renderedAt = renderedAt
		if !e.retry {
			r.setDue(e, dueAt(renderedAt, d))
		}
	}
}

// rendered records a new L2 copy of k: its next re-render is due a TTL
// less the lead later. Pages not in the index stay out of it.
func (r *recacher) rendered(k Key, d domain.Domain, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[k.StoreKey()]
	if !ok {
		return
	}
	e.renderedAt, e.retry = at, false
	r.setDue(e, dueAt(at, d))
}

// retry schedules a guard retry of k at at.
func (r *recacher) retry(k Key, at time.Time) {
	sk := k.StoreKey()
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[sk]
	if !ok {
		if len(r.entries) >= r.cfg.MaxPages {
			r.dropped.Add(1)
			return
		}
		e = &entry{key: k, index: -1}
		r.entries[sk] = e
	}
	e.retry = true
	r.setDue(e, at)
}

// setDue (re)places e on the heap at t; a busy entry goes back when its
// tick is done with it. r.mu is held.
func (r *recacher) setDue(e *entry, t time.Time) {
	e.dueAt = t
	switch {
	case e.busy:
	case e.index >= 0:
		heap.Fix(&r.due, e.index)
	default:
		heap.Push(&r.due, e)
	}
}

// putBack returns a busy entry to the heap at its due time, unless it was
// dropped meanwhile.
func (r *recacher) putBack(e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.putBackLocked(e, e.dueAt)
}

// putBackAt is putBack at due time due, or later if a render set a later
// one meanwhile.
func (r *recacher) putBackAt(e *entry, due time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.dueAt.After(due) {
		due = e.dueAt
	}
	r.putBackLocked(e, due)
}

func (r *recacher) putBackLocked(e *entry, due time.Time) {
	e.busy = false
	if r.entries[e.key.StoreKey()] == e {
		r.setDue(e, due)
	}
}

// drop removes a busy entry from the index.
func (r *recacher) drop(e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.entries[e.key.StoreKey()] == e {
		delete(r.entries, e.key.StoreKey())
	}
}

// retrying reports whether the schedule holds a guard retry of the page.
func (r *recacher) retrying(sk string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[sk]
	return ok && e.retry
}

// size returns the number of indexed pages.
func (r *recacher) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

// run ticks until ctx ends.
func (r *recacher) run(ctx context.Context) {
	periodic.Run(ctx, r.cfg.Tick, func(ctx context.Context) { r.tick(ctx) })
}

// tick starts the re-renders of the pages due now, oldest first, within
// the rate bounds; pages of a domain past its rate wait for a later tick.
func (r *recacher) tick(ctx context.Context) {
	now := r.s.cfg.Now()
	var deferred []*entry
	defer func() {
		for _, e := range deferred {
			r.putBack(e)
		}
	}()
	for range maxDuePerTick {
		r.mu.Lock()
		if r.due.Len() == 0 || r.due[0].dueAt.After(now) {
			r.mu.Unlock()
			return
		}
		e := heap.Pop(&r.due).(*entry)
		e.busy = true
		// Fills and renders update the entry under r.mu meanwhile: the
		// checks below, made without it, read this copy.
		st := dueState{retry: e.retry, askedAt: e.askedAt, renderedAt: e.renderedAt}
		r.mu.Unlock()
		d, ok := r.check(e, st, now)
		if !ok {
			continue
		}
		switch r.admit(d.Domain) {
		case deferDomain:
			deferred = append(deferred, e)
			continue
		case deferAll:
			deferred = append(deferred, e)
			return
		}
		r.start(ctx, e, st, d)
	}
}

// dueState is what tick read of a due entry under r.mu.
type dueState struct {
	retry               bool
	askedAt, renderedAt time.Time
}

// Answers of admit.
const (
	admitted    = iota
	deferDomain // the domain is past its rate: try its other pages later
	deferAll    // the node is past its rate or its renders in flight
)

// admit takes a render slot and a place within the node's and the
// domain's rates, or says which bound refused.
func (r *recacher) admit(host string) int {
	select {
	case r.slots <- struct{}{}:
	default:
		return deferAll
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now() // rates are in real time, whatever the service's clock
	dom := r.limiter(host)
	switch {
	case r.node.TokensAt(now) < 1:
		<-r.slots
		return deferAll
	case dom.TokensAt(now) < 1:
		<-r.slots
		return deferDomain
	}
	// Both have a token (r.mu serialises admissions): take one of each.
	r.node.AllowN(now, 1)
	dom.AllowN(now, 1)
	return admitted
}

// check decides what to do with a due entry, off the heap: it returns the
// page's domain when the page is to be re-rendered now. A page is dropped
// (left to expire) when no crawler asked for it within a TTL, when its
// domain is gone, recache is off or the page was purged, or when this
// node no longer owns it; a page whose domain's settings moved its due
// time later goes back on the heap.
func (r *recacher) check(e *entry, st dueState, now time.Time) (domain.Domain, bool) {
	drop := func() (domain.Domain, bool) {
		r.drop(e)
		return domain.Domain{}, false
	}
	if r.s.guard.exhausted(e.key.StoreKey()) {
		return drop() // the guard gave up: the page is left to expire
	}
	d, err := r.s.cfg.Domain(e.key.Domain)
	if err != nil || r.s.cfg.Version(d, PathOf(e.key.URL)) != e.key.Version {
		return drop()
	}
	if owner, _ := r.s.cfg.Ring.Owner(e.key.String()); owner != r.s.cfg.Ring.Self() {
		return drop()
	}
	if st.retry {
		return d, true
	}
	if !d.Recache.Enabled || st.askedAt.IsZero() || now.Sub(st.askedAt) > TTL(d) {
		return drop()
	}
	if due := dueAt(st.renderedAt, d); due.After(now) {
		r.putBackAt(e, due)
		return domain.Domain{}, false
	}
	return d, true
}

// limiter returns domain's recache rate. r.mu is held.
func (r *recacher) limiter(host string) *rate.Limiter {
	l, ok := r.limits[host]
	if !ok {
		if len(r.limits) >= maxDomainLimiters {
			clear(r.limits)
		}
		l = rate.NewLimiter(rate.Limit(r.cfg.DomainRate), 1)
		r.limits[host] = l
	}
	return l
}

// start re-renders e's page in the background under the guard and puts
// it back on the heap when done: at its next due time after a good
// render, at the guard's retry time after a rejection, a little later
// when the render queue was full, never when over the quota.
func (r *recacher) start(ctx context.Context, e *entry, st dueState, d domain.Domain) {
	s := r.s
	cause := "recache"
	if st.retry {
		cause = "retry"
	}
	s.stats.Recaches.Add(1)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer func() { <-r.slots }()
		rctx, cancel := context.WithTimeout(ctx, 3*maxRenderTimeout(s.cfg.RenderTimeout))
		defer cancel()
		o, err := s.rerender(rctx, e.key, d, cause)
		switch {
		case errors.Is(err, render.ErrQueueFull):
			r.mu.Lock()
			e.dueAt = s.cfg.Now().Add(busyDelay)
			r.mu.Unlock()
			r.putBack(e)
		case err != nil:
			s.cfg.Logger.Info("recache render failed; the page is left to expire", "key", e.key.String(), "cause", cause, "err", err)
			r.drop(e)
		case !o.Replaced && s.guard.exhausted(e.key.StoreKey()):
			r.drop(e) // the guard gave up: no more retries for this page
		default:
			// rendered() or the guard's retry() set the next due time.
			r.putBack(e)
		}
	}()
}

// dueHeap orders entries by due time, oldest first.
type dueHeap []*entry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].dueAt.Before(h[j].dueAt) }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *dueHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*h = old[:len(old)-1]
	return e
}
