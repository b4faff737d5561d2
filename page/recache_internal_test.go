package page

import (
	"container/heap"
	"testing"
	"time"
)

// Due pages come off the heap oldest first, and a moved due time moves
// the page.
func TestDueHeapOldestFirst(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	var h dueHeap
	var es []*entry
	for _, s := range []int{30, 10, 50, 20, 40} {
		e := &entry{key: Key{URL: "/" + time.Duration(s).String()}, dueAt: t0.Add(time.Duration(s) * time.Second), index: -1}
		es = append(es, e)
		heap.Push(&h, e)
	}
	es[2].dueAt = t0.Add(5 * time.Second) // 50 s → 5 s
	heap.Fix(&h, es[2].index)
	var got []time.Duration
	for h.Len() > 0 {
		e := heap.Pop(&h).(*entry)
		if e.index != -1 {
			t.Fatal("a popped entry keeps its index")
		}
		got = append(got, e.dueAt.Sub(t0)/time.Second)
	}
	want := []time.Duration{5, 10, 20, 30, 40}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

// The guard's retries back off from an eighth of the TTL, doubling, and
// stop after MaxGuardAttempts rejections in a row.
func TestGuardBackoff(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	b := guardBook{pages: map[string]*guardState{}}
	var delays []time.Duration
	for i := 1; ; i++ {
		at, done := b.reject("k", 500, t0, 80*time.Second)
		if done {
			if i != MaxGuardAttempts {
				t.Fatalf("gave up after %d rejections", i)
			}
			break
		}
		delays = append(delays, at.Sub(t0))
		if !b.waiting("k", t0) || b.waiting("k", at) {
			t.Fatalf("waiting until %v is wrong", at)
		}
	}
	if len(delays) != 3 || delays[0] != 10*time.Second || delays[1] != 20*time.Second || delays[2] != 40*time.Second {
		t.Fatalf("delays %v", delays)
	}
	if !b.exhausted("k") || b.lastRejected("k") != 500 {
		t.Fatal("state after giving up")
	}
	b.clear("k")
	if b.waiting("k", t0) || b.lastRejected("k") != 0 {
		t.Fatal("a cleared page still waits")
	}
	// Short TTLs still wait at least minRetryBase.
	if at, _ := b.reject("short", 404, t0, 3*time.Second); at.Sub(t0) != minRetryBase {
		t.Fatalf("first retry after %v with a 3 s TTL", at.Sub(t0))
	}
}
