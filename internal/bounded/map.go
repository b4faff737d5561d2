// Package bounded is a concurrent map of what a node remembers per cached
// object, which must not grow without limit: when it holds its maximum,
// the next insertion starts it over. What it holds is a hint (the group
// key an object was filled under, a copy for stale-if-error), so losing
// it all at once costs a few extra cluster lookups, never a wrong answer,
// and needs no eviction bookkeeping on the hit path.
package bounded

import "sync"

// Map is a string-keyed map of at most Max entries. Safe for concurrent
// use; lookups take a read lock only.
type Map[V any] struct {
	max int
	mu  sync.RWMutex
	m   map[string]V
}

// New returns an empty map that holds at most max entries.
func New[V any](max int) *Map[V] { return &Map[V]{max: max, m: map[string]V{}} }

// Get returns key's value.
func (b *Map[V]) Get(key string) (V, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	v, ok := b.m[key]
	return v, ok
}

// GetBytes is Get of a key held in bytes, without copying it: a hit path
// builds keys in a reused buffer.
func (b *Map[V]) GetBytes(key []byte) (V, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	v, ok := b.m[string(key)]
	return v, ok
}

// Put sets key's value, starting the map over first if it is full.
func (b *Map[V]) Put(key string, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[key]; !ok && len(b.m) >= b.max {
		b.m = map[string]V{}
	}
	b.m[key] = v
}

// Len is how many entries the map holds.
func (b *Map[V]) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.m)
}
