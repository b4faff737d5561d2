package indexmemo

import (
	"sync"
	"sync/atomic"
	"testing"
)

// A value is loaded once per applied index, loaded again after the index
// moves, and not remembered when load says so or past the bound.
func TestGetRemembersPerIndex(t *testing.T) {
	var idx atomic.Uint64
	m := New[string, int](idx.Load, 2)
	loads := 0
	get := func(k string, v int, remember bool) int {
		return m.Get(k, func() (int, bool) { loads++; return v, remember })
	}
	if got := get("a", 1, true); got != 1 || loads != 1 {
		t.Fatalf("first get: %d after %d loads", got, loads)
	}
	if got := get("a", 2, true); got != 1 || loads != 1 {
		t.Fatalf("same index: %d after %d loads, want the remembered 1", got, loads)
	}
	idx.Store(1)
	if got := get("a", 3, true); got != 3 || loads != 2 {
		t.Fatalf("index moved: %d after %d loads, want a fresh 3", got, loads)
	}
	if got := get("b", 4, false); got != 4 {
		t.Fatalf("not remembered: %d", got)
	}
	if get("b", 5, true); loads != 4 {
		t.Fatalf("a value load said not to keep was kept (%d loads)", loads)
	}
	get("c", 6, true) // past the bound of 2: loaded, not kept
	if got := get("c", 7, true); got != 7 {
		t.Fatalf("past the bound: %d, want a new load", got)
	}
}

// Without an applied index nothing is remembered.
func TestNilAppliedLoadsEveryTime(t *testing.T) {
	m := New[string, int](nil, 10)
	n := 0
	for range 3 {
		m.Get("a", func() (int, bool) { n++; return n, true })
	}
	if n != 3 {
		t.Fatalf("%d loads, want 3", n)
	}
}

// A hit allocates nothing, closure included.
func TestHitDoesNotAllocate(t *testing.T) {
	var idx atomic.Uint64
	m := New[string, *int](idx.Load, 10)
	one := 1
	key := "host.example"
	m.Get(key, func() (*int, bool) { return &one, true })
	if n := testing.AllocsPerRun(100, func() {
		m.Get(key, func() (*int, bool) { return &one, true })
	}); n != 0 {
		t.Fatalf("%v allocations per hit", n)
	}
}

// Concurrent gets of one key across index moves all return a value that
// was loaded at an index no older than the one they saw.
func TestConcurrentGets(t *testing.T) {
	var idx atomic.Uint64
	m := New[int, uint64](idx.Load, 100)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				if w == 0 && i%10 == 0 {
					idx.Add(1)
				}
				seen := idx.Load()
				if got := m.Get(i%7, func() (uint64, bool) { return idx.Load(), true }); got < seen {
					t.Errorf("value loaded at index %d for a get that saw %d", got, seen)
					return
				}
			}
		}()
	}
	wg.Wait()
}
