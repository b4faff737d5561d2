package cache

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/golang/groupcache/consistenthash"
)

// replicas is the number of points per member on the hash ring; 128 keeps
// the share of keys per node within a few percent for small clusters.
const replicas = 128

// Ring maps keys to the member that owns them. All groups of a node share
// it. Nodes whose views agree pick the same owner for every key. Safe for
// concurrent use.
type Ring struct {
	self string

	mu    sync.RWMutex
	hash  *consistenthash.Map
	addrs map[string]string // member name → internal listener address
}

// NewRing returns a ring holding only self, so a lone node owns every key.
func NewRing(self string) *Ring {
	r := &Ring{self: self}
	r.Set(map[string]string{self: ""})
	return r
}

// Self returns the local member's name.
func (r *Ring) Self() string { return r.self }

// Set replaces the members (name → internal address). The local node is
// always a member. Calls with an unchanged set are cheap no-ops.
func (r *Ring) Set(members map[string]string) {
	m := maps.Clone(members)
	if m == nil {
		m = map[string]string{}
	}
	if _, ok := m[r.self]; !ok {
		m[r.self] = ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hash != nil && maps.Equal(m, r.addrs) {
		return
	}
	names := slices.Sorted(maps.Keys(m))
	h := consistenthash.New(replicas, nil)
	h.Add(names...)
	r.hash, r.addrs = h, m
}

// Owner returns the member that owns key and its internal address ("" for
// the local node). Only the part of key before the first NUL is hashed, so
// generations of one entry ("k\x00<n>") share an owner, and with it the
// owner's L2 copy.
func (r *Ring) Owner(key string) (name, addr string) {
	if i := strings.IndexByte(key, 0); i >= 0 {
		key = key[:i]
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	name = r.hash.Get(key)
	return name, r.addrs[name]
}

// Members returns the member names and addresses.
func (r *Ring) Members() map[string]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return maps.Clone(r.addrs)
}
