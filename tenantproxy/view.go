package tenantproxy

import (
	"sync"

	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/tenant"
)

// view keeps the tenants this node served, decoded once per applied raft
// index, so that a hit does not decode state. Safe for concurrent use.
type view struct {
	state   record.Reader
	applied func() uint64

	mu sync.RWMutex
	at uint64
	m  map[string]tenant.Tenant
}

// maxView bounds the tenants a view keeps; past it the map starts over.
const maxView = 10_000

func newView(state record.Reader, applied func() uint64) *view {
	return &view{state: state, applied: applied, m: map[string]tenant.Tenant{}}
}

// tenant returns slug's tenant from local state.
func (v *view) tenant(slug string) (tenant.Tenant, bool) {
	if v.applied == nil {
		t, err := tenant.Lookup(v.state, slug)
		return t, err == nil
	}
	at := v.applied()
	v.mu.RLock()
	t, ok := v.m[slug]
	same := v.at == at
	v.mu.RUnlock()
	if ok && same {
		return t, true
	}
	t, err := tenant.Lookup(v.state, slug)
	if err != nil {
		return tenant.Tenant{}, false
	}
	v.mu.Lock()
	if v.at != at || len(v.m) >= maxView {
		v.at, v.m = at, map[string]tenant.Tenant{}
	}
	v.m[slug] = t
	v.mu.Unlock()
	return t, true
}
