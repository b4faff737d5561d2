package cache

import (
	"fmt"
	"maps"
	"testing"
)

func TestRingAlwaysHoldsSelf(t *testing.T) {
	r := NewRing("n1")
	if got := r.Members(); !maps.Equal(got, map[string]string{"n1": ""}) {
		t.Fatalf("new ring: %v", got)
	}
	if owner, addr := r.Owner("any key"); owner != "n1" || addr != "" {
		t.Fatalf("a lone node does not own every key: %s %q", owner, addr)
	}
	for _, members := range []map[string]string{nil, {}, {"n2": "10.0.0.2:8081"}} {
		r.Set(members)
		if _, ok := r.Members()["n1"]; !ok {
			t.Fatalf("Set(%v) dropped the local node", members)
		}
	}
	// Members is a copy.
	m := r.Members()
	m["n9"] = "x"
	if _, ok := r.Members()["n9"]; ok {
		t.Fatal("Members returned the ring's own map")
	}
}

// Nodes whose views agree pick the same owner for every key, whichever
// node asks and in whatever order members were added; generations of an
// entry ("k\x00<n>") share their owner.
func TestRingOwnersAgree(t *testing.T) {
	members := map[string]string{"n1": "a1", "n2": "a2", "n3": "a3"}
	rings := map[string]*Ring{}
	for name := range members {
		r := NewRing(name)
		r.Set(members)
		rings[name] = r
	}
	for i := range 2000 {
		key := fmt.Sprintf("render/site%d.example.com/1/desktop/p%d", i%7, i)
		want, _ := rings["n1"].Owner(key)
		for name, r := range rings {
			got, addr := r.Owner(key)
			if got != want {
				t.Fatalf("%s: %s says %s, n1 says %s", key, name, got, want)
			}
			if wantAddr := members[got]; got != name && addr != wantAddr {
				t.Fatalf("%s: address %q for %s, want %q", key, addr, got, wantAddr)
			}
		}
		if gen, _ := rings["n2"].Owner(key + "\x007"); gen != want {
			t.Fatalf("%s: generation owned by %s, entry by %s", key, gen, want)
		}
	}
}

// Keys spread over members within a reasonable share, and a member
// leaving moves only the keys it owned.
func TestRingBalanceAndMinimalRemap(t *testing.T) {
	r := NewRing("n1")
	r.Set(map[string]string{"n1": "", "n2": "a2", "n3": "a3"})
	const keys = 30000
	before := make([]string, keys)
	share := map[string]int{}
	for i := range keys {
		before[i], _ = r.Owner(fmt.Sprint("key-", i))
		share[before[i]]++
	}
	for name, n := range share {
		if n < keys/5 || n > keys/2 {
			t.Errorf("%s owns %d of %d keys", name, n, keys)
		}
	}
	r.Set(map[string]string{"n1": "", "n2": "a2"})
	for i := range keys {
		after, _ := r.Owner(fmt.Sprint("key-", i))
		if before[i] != "n3" && after != before[i] {
			t.Fatalf("key-%d moved from %s to %s when n3 left", i, before[i], after)
		}
		if after == "n3" {
			t.Fatalf("key-%d still owned by n3", i)
		}
	}
}
