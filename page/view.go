package page

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rendercache/rendercache/domain"
)

// Bounds of what a view remembers per state index: beyond them lookups
// still work, they are just not remembered (a flood of made-up hosts or
// paths cannot grow memory).
const (
	maxViewHosts = 1 << 16
	maxViewPaths = 1 << 12 // per domain
)

// view remembers what the serve path reads from local replicated state
// (each host's domain, each page's cache version) for as long as that
// state does not change. Every entry belongs to one applied index; the
// first lookup after raft applies anything starts afresh. A purge is a
// raft write, so the first request after a purge applied here reads the
// new version, and its key misses. Safe for concurrent use.
type view struct {
	applied func() uint64
	lookup  func(host string) (domain.Domain, error)
	version func(d domain.Domain, path string) string
	cur     atomic.Pointer[viewGen]
}

// viewGen is what the view knows at one applied index.
type viewGen struct {
	index uint64
	mu    sync.RWMutex
	sites map[string]*site // nil: not a domain
}

// gen returns the generation for the current applied index. The index is
// read before any state: what a generation holds is at least as new as
// its index, never older.
func (v *view) gen() *viewGen {
	idx := v.applied()
	for {
		g := v.cur.Load()
		if g != nil && g.index >= idx {
			return g
		}
		ng := &viewGen{index: idx, sites: make(map[string]*site)}
		if v.cur.CompareAndSwap(g, ng) {
			return ng
		}
	}
}

// site returns host's domain as a site of surf, from memory when local
// state has not changed since it was read.
func (v *view) site(surf *Surface, host string) (*site, bool) {
	g := v.gen()
	g.mu.RLock()
	st, known := g.sites[host]
	g.mu.RUnlock()
	if known {
		return st, st != nil
	}
	d, err := v.lookup(host)
	switch {
	case err == nil:
		ttl := TTL(d)
		st = &site{surf: surf, d: d, ttl: ttl, bucket: bucketFor(ttl), versions: make(map[string]string)}
	case !errors.Is(err, domain.ErrNotFound):
		// A storage failure is not an answer to remember.
		return nil, false
	}
	g.mu.Lock()
	if prev, ok := g.sites[host]; ok {
		st = prev
	} else if len(g.sites) < maxViewHosts {
		g.sites[host] = st
	}
	g.mu.Unlock()
	return st, st != nil
}

// site is one registered domain as the serve path sees it at one state
// index: an edge.Site.
type site struct {
	surf   *Surface
	d      domain.Domain
	ttl    time.Duration
	bucket time.Duration

	mu       sync.RWMutex
	versions map[string]string // URL path → cache version
}

// version returns the cache version of the page at path (domain.Version),
// read from state once per state index.
func (st *site) version(path string) string {
	st.mu.RLock()
	v, ok := st.versions[path]
	st.mu.RUnlock()
	if ok {
		return v
	}
	v = st.surf.pages.cfg.Version(st.d, path)
	st.mu.Lock()
	if len(st.versions) < maxViewPaths {
		st.versions[path] = v
	}
	st.mu.Unlock()
	return v
}
