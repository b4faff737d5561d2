// Package indexmemo remembers what a hot path read from a node's local
// replicated state until raft applies another entry.
//
// The serve path reads the same few records (a host's domain, zone or
// tenant, a path's cache versions) on every request, and decoding them
// from Pebble each time would dominate a cache hit. Every change to them
// is a raft write, which moves the state's applied index, so a value read
// at one index stays right until the index moves: a Memo keeps values per
// index and starts afresh at the first lookup after it moved. What it
// holds is therefore never older than the index it is filed under (the
// index is read before the state).
package indexmemo

import (
	"sync"
	"sync/atomic"
)

// Memo maps keys to values read at the current applied index, at most Max
// of them per index: beyond it lookups still work, they are just not
// remembered, so a flood of made-up keys cannot grow memory. Safe for
// concurrent use.
type Memo[K comparable, V any] struct {
	applied func() uint64
	max     int
	cur     atomic.Pointer[generation[K, V]]
}

// generation is what a Memo knows at one applied index.
type generation[K comparable, V any] struct {
	index uint64
	mu    sync.RWMutex
	m     map[K]V
}

// New returns a Memo over the state whose applied index applied returns
// (storage.State.AppliedIndex); nil remembers nothing (every Get loads).
// max bounds the keys remembered per index.
func New[K comparable, V any](applied func() uint64, max int) *Memo[K, V] {
	return &Memo[K, V]{applied: applied, max: max}
}

// Get returns k's value: the one remembered at the current index, else
// what load reads, remembered unless load says not to (a read error is
// not an answer to keep). Concurrent loads of one key may both run; the
// first remembered wins and both callers get it. A hit allocates nothing.
func (m *Memo[K, V]) Get(k K, load func() (v V, remember bool)) V {
	if m.applied == nil {
		v, _ := load()
		return v
	}
	g := m.generation()
	g.mu.RLock()
	v, ok := g.m[k]
	g.mu.RUnlock()
	if ok {
		return v
	}
	v, remember := load()
	if !remember {
		return v
	}
	g.mu.Lock()
	if prev, ok := g.m[k]; ok {
		v = prev
	} else if len(g.m) < m.max {
		g.m[k] = v
	}
	g.mu.Unlock()
	return v
}

// generation returns the generation of the current applied index. The
// index is read before any state, so what a generation holds is at least
// as new as its index.
func (m *Memo[K, V]) generation() *generation[K, V] {
	idx := m.applied()
	for {
		g := m.cur.Load()
		if g != nil && g.index >= idx {
			return g
		}
		ng := &generation[K, V]{index: idx, m: make(map[K]V)}
		if m.cur.CompareAndSwap(g, ng) {
			return ng
		}
	}
}
