package edge

import (
	"fmt"
	"hash/maphash"
	"net/http"
	"sync"
	"testing"
)

// sizedAnswer returns an identity-only answer whose Size is about n.
func sizedAnswer(n int) *Answer {
	return New(Meta{Header: http.Header{"Content-Type": {"image/png"}}, Body: make([]byte, max(n-answerOverhead-200, 1))}, Options{})
}

// sameShardKeys returns n keys that all land in one shard of m, so that
// a test can reason about one CLOCK.
func sameShardKeys(m *HotMap, n int) []string {
	var keys []string
	want := maphash.String(m.seed, "render/k0") & (hotShards - 1)
	for i := 0; len(keys) < n; i++ {
		k := fmt.Sprintf("render/k%d", i)
		if maphash.String(m.seed, k)&(hotShards-1) == want {
			keys = append(keys, k)
		}
	}
	return keys
}

func TestHotMapGetPut(t *testing.T) {
	m := NewHotMap(16 << 20)
	a, b := newHTML(t, 100), newHTML(t, 200)
	if _, ok := m.Get("render/x"); ok {
		t.Fatal("hit in an empty map")
	}
	m.Put("render/x", a)
	if got, ok := m.Get("render/x"); !ok || got != a {
		t.Fatal("Put then Get missed")
	}
	if got, ok := m.GetBytes([]byte("render/x")); !ok || got != a {
		t.Fatal("GetBytes missed")
	}
	m.Put("render/x", b)
	if got, _ := m.Get("render/x"); got != b {
		t.Fatal("Put did not replace")
	}
	if st := m.Stats(); st.Entries != 1 || st.Bytes != b.Size()+int64(len("render/x"))+entryOverhead {
		t.Errorf("after a replace: %+v", st)
	}
	m.Delete("render/x")
	if _, ok := m.Get("render/x"); ok {
		t.Fatal("hit after Delete")
	}
	if st := m.Stats(); st.Entries != 0 || st.Bytes != 0 || st.Hits != 3 || st.Misses != 2 {
		t.Errorf("after Delete: %+v", st)
	}
}

func TestHotMapVersionedKeys(t *testing.T) {
	m := NewHotMap(16 << 20)
	m.Put("render/example.com/7/desktop/a", newHTML(t, 100))
	// The purge bumped the domain's version to 8: the key changes, so the
	// old answer is unreachable without touching the map.
	if _, ok := m.Get("render/example.com/8/desktop/a"); ok {
		t.Fatal("an answer of version 7 was found under version 8")
	}
}

func TestHotMapPurge(t *testing.T) {
	m := NewHotMap(16 * 64 << 10)
	keys := sameShardKeys(m, 4)
	for _, k := range keys[:3] {
		m.Put(k, sizedAnswer(10<<10))
	}
	m.Purge()
	for _, k := range keys[:3] {
		if _, ok := m.Get(k); ok {
			t.Fatalf("%s found after Purge", k)
		}
	}
	fresh := sizedAnswer(10 << 10)
	m.Put(keys[0], fresh)
	if got, ok := m.Get(keys[0]); !ok || got != fresh {
		t.Fatal("a Put after Purge is not found")
	}
	// Purged entries go first: filling the shard keeps the new one.
	for range 10 {
		m.Put(keys[3], sizedAnswer(20<<10))
		m.Get(keys[0])
	}
	if _, ok := m.Get(keys[0]); !ok {
		t.Error("a current entry was evicted before purged ones")
	}
}

func TestHotMapBound(t *testing.T) {
	const max = 16 * 100 << 10 // 100 KiB a shard
	m := NewHotMap(max)
	for i := range 2000 {
		if !m.Put(fmt.Sprintf("render/site/1/desktop/p%d", i), sizedAnswer(1000+i%9000)) {
			t.Fatalf("Put %d refused", i)
		}
		if i%100 == 0 {
			checkBound(t, m)
		}
	}
	checkBound(t, m)
	st := m.Stats()
	if st.Evictions == 0 || st.Bytes > max || st.Bytes < max/2 {
		t.Errorf("stats %+v for a bound of %d", st, max)
	}
	if m.Put("render/huge", sizedAnswer(max/hotShards+1)) {
		t.Error("kept an answer larger than a shard")
	}
}

func checkBound(t *testing.T, m *HotMap) {
	t.Helper()
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		var sum int64
		for _, e := range s.m {
			sum += e.size
		}
		n, bytes := len(s.m), s.bytes
		s.mu.RUnlock()
		if bytes > m.maxShard || sum != bytes {
			t.Fatalf("shard %d: %d entries, %d bytes counted, %d summed, bound %d", i, n, bytes, sum, m.maxShard)
		}
	}
}

func TestHotMapClock(t *testing.T) {
	m := NewHotMap(16 * 50 << 10)
	keys := sameShardKeys(m, 12)
	hot := keys[0]
	m.Put(hot, sizedAnswer(10<<10))
	for _, k := range keys[1:] {
		m.Get(hot) // a hit gives the hot entry its second chance
		m.Put(k, sizedAnswer(10<<10))
	}
	if _, ok := m.Get(hot); !ok {
		t.Error("the entry hit before every Put was evicted")
	}
	if _, ok := m.Get(keys[1]); ok {
		t.Error("an entry never hit outlived the CLOCK")
	}
	if m.Stats().Evictions == 0 {
		t.Error("no evictions")
	}
}

func TestHotMapTooBigReplacesOld(t *testing.T) {
	m := NewHotMap(16 * 50 << 10)
	m.Put("render/x", sizedAnswer(1000))
	if m.Put("render/x", sizedAnswer(60<<10)) {
		t.Fatal("kept an answer larger than a shard")
	}
	if _, ok := m.Get("render/x"); ok {
		t.Error("the older answer stayed under the key")
	}
}

func TestHotMapConcurrent(t *testing.T) {
	m := NewHotMap(16 * 64 << 10)
	answers := []*Answer{sizedAnswer(2 << 10), sizedAnswer(8 << 10), newHTML(t, 4<<10)}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			buf := make([]byte, 0, 64)
			for i := range 3000 {
				k := fmt.Sprintf("render/site/1/desktop/p%d", (i*7+g)%300)
				switch i % 10 {
				case 0, 1:
					m.Put(k, answers[i%len(answers)])
				case 2:
					m.Delete(k)
				case 3:
					if g == 0 && i%500 == 3 {
						m.Purge()
					}
				default:
					if a, ok := m.GetBytes(append(buf[:0], k...)); ok {
						// Serve reads the answer while others replace it.
						Serve(&discardWriter{h: http.Header{}}, &http.Request{Method: http.MethodGet, Header: http.Header{}}, a, Hit, testNow)
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			m.Stats()
		}
	})
	wg.Wait()
	checkBound(t, m)
}

func TestHotMapGetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	m := NewHotMap(16 << 20)
	m.Put("render/example.com/3/desktop/a?b=c", newHTML(t, 100))
	key := "render/example.com/3/desktop/a?b=c"
	keyBytes := []byte(key)
	if n := testing.AllocsPerRun(1000, func() { m.Get(key) }); n != 0 {
		t.Errorf("Get: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { m.GetBytes(keyBytes) }); n != 0 {
		t.Errorf("GetBytes: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { m.Get("render/none") }); n != 0 {
		t.Errorf("Get of a missing key: %v allocations, want 0", n)
	}
}
