package edge

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// hotShards is the number of independently locked parts of a HotMap: a
// power of two, enough that concurrent hits rarely meet on one lock.
const hotShards = 16

// entryOverhead is the rough cost of a hot entry besides its key and
// answer: the entry, its map slot and its ring slot.
const entryOverhead = 128

// HotMap is a byte-bounded map from full cache keys to ready-to-write
// answers, kept in front of groupcache on every node so that a hit is a
// map lookup and a Serve. groupcache stays the owner and the fill path.
//
// Keys carry the version of what they name (kind/owner/version/...), so a
// purge, being a version bump, makes old entries unreachable at once; they
// are evicted first when room is needed. Purge drops every entry in O(1)
// by bumping a generation, for when versions are not enough (a node that
// lost track of them). Eviction is CLOCK (second chance) within each of 16
// shards, each bounded to a sixteenth of the bytes; an answer larger than
// that is never kept.
//
// A HotMap is safe for concurrent use. Get and GetBytes never allocate.
type HotMap struct {
	seed     maphash.Seed
	gen      atomic.Uint64
	maxShard int64
	shards   [hotShards]hotShard
}

type hotShard struct {
	mu    sync.RWMutex
	m     map[string]*hotEntry
	ring  []*hotEntry // CLOCK order; nil slots are free
	free  []int
	hand  int
	bytes int64

	hits, misses, evictions atomic.Int64
	_                       [64]byte // keep shards on their own cache lines
}

type hotEntry struct {
	key  string
	a    *Answer
	gen  uint64
	size int64
	slot int
	ref  atomic.Bool // set by hits, cleared as the CLOCK hand passes
}

// NewHotMap returns an empty map holding at most maxBytes of answers
// (Answer.Size plus keys and bookkeeping).
func NewHotMap(maxBytes int64) *HotMap {
	m := &HotMap{seed: maphash.MakeSeed(), maxShard: max(maxBytes, 0) / hotShards}
	for i := range m.shards {
		m.shards[i].m = make(map[string]*hotEntry)
	}
	return m
}

func (m *HotMap) shardOf(h uint64) *hotShard { return &m.shards[h&(hotShards-1)] }

// Get returns the answer kept for key, if any of the current generation.
func (m *HotMap) Get(key string) (*Answer, bool) {
	s := m.shardOf(maphash.String(m.seed, key))
	gen := m.gen.Load()
	s.mu.RLock()
	a := s.hit(s.m[key], gen)
	s.mu.RUnlock()
	return a, a != nil
}

// GetBytes is Get for a key built in a caller's buffer, so that a hit
// needs no key string at all.
func (m *HotMap) GetBytes(key []byte) (*Answer, bool) {
	s := m.shardOf(maphash.Bytes(m.seed, key))
	gen := m.gen.Load()
	s.mu.RLock()
	a := s.hit(s.m[string(key)], gen) // the compiler does not allocate here
	s.mu.RUnlock()
	return a, a != nil
}

// hit accounts a lookup that found e (nil: nothing) under the read lock.
func (s *hotShard) hit(e *hotEntry, gen uint64) *Answer {
	if e == nil || e.gen != gen {
		s.misses.Add(1)
		return nil
	}
	if !e.ref.Load() {
		e.ref.Store(true)
	}
	s.hits.Add(1)
	return e.a
}

// Put keeps a under key, replacing what was there, and evicts until the
// shard fits its bound. It reports whether a was kept: an answer larger
// than a sixteenth of the map's bytes is not (and any older answer under
// key is dropped).
func (m *HotMap) Put(key string, a *Answer) bool {
	size := a.Size() + int64(len(key)) + entryOverhead
	s := m.shardOf(maphash.String(m.seed, key))
	gen := m.gen.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if size > m.maxShard {
		if ok {
			s.remove(e)
		}
		return false
	}
	if ok {
		s.bytes += size - e.size
		e.a, e.size, e.gen = a, size, gen
		e.ref.Store(true)
	} else {
		e = &hotEntry{key: key, a: a, gen: gen, size: size}
		if n := len(s.free); n > 0 {
			e.slot, s.free = s.free[n-1], s.free[:n-1]
			s.ring[e.slot] = e
		} else {
			e.slot = len(s.ring)
			s.ring = append(s.ring, e)
		}
		s.m[key] = e
		s.bytes += size
	}
	for s.bytes > m.maxShard && s.evictOne(gen, e) {
	}
	return true
}

// evictOne removes one entry other than keep: the first whose generation
// is old or whose reference bit is clear as the hand sweeps, clearing bits
// on its way. Two sweeps always find one if there is one.
func (s *hotShard) evictOne(gen uint64, keep *hotEntry) bool {
	for range 2*len(s.ring) + 1 {
		if s.hand >= len(s.ring) {
			s.hand = 0
		}
		e := s.ring[s.hand]
		s.hand++
		if e == nil || e == keep {
			continue
		}
		if e.gen == gen && e.ref.Load() {
			e.ref.Store(false)
			continue
		}
		s.remove(e)
		s.evictions.Add(1)
		return true
	}
	return false
}

func (s *hotShard) remove(e *hotEntry) {
	delete(s.m, e.key)
	s.ring[e.slot] = nil
	s.free = append(s.free, e.slot)
	s.bytes -= e.size
}

// Delete drops key's answer, if kept.
func (m *HotMap) Delete(key string) {
	s := m.shardOf(maphash.String(m.seed, key))
	s.mu.Lock()
	if e, ok := s.m[key]; ok {
		s.remove(e)
	}
	s.mu.Unlock()
}

// Purge makes every kept answer unreachable in O(1), whatever the map
// holds: Get ignores entries of an older generation, and they are the
// first to be evicted.
func (m *HotMap) Purge() { m.gen.Add(1) }

// HotStats counts what a HotMap did and holds, for metrics.
type HotStats struct {
	Hits, Misses, Evictions int64
	// Entries and Bytes include purged entries not yet evicted.
	Entries int
	Bytes   int64
}

// Stats returns the map's counters and size.
func (m *HotMap) Stats() HotStats {
	var st HotStats
	for i := range m.shards {
		s := &m.shards[i]
		st.Hits += s.hits.Load()
		st.Misses += s.misses.Load()
		st.Evictions += s.evictions.Load()
		s.mu.RLock()
		st.Entries += len(s.m)
		st.Bytes += s.bytes
		s.mu.RUnlock()
	}
	return st
}
