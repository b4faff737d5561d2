package page

import (
	"errors"
	"sync"
	"time"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/indexmemo"
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
// state does not change (indexmemo): the first lookup after raft applies
// anything starts afresh. A purge is a raft write, so the first request
// after a purge applied here reads the new version, and its key misses.
// Safe for concurrent use.
type view struct {
	lookup func(host string) (domain.Domain, error)
	sites  *indexmemo.Memo[string, *site] // nil: not a domain
}

// site returns host's domain as a site of surf, from memory when local
// state has not changed since it was read.
func (v *view) site(surf *Surface, host string) (*site, bool) {
	st := v.sites.Get(host, func() (*site, bool) {
		d, err := v.lookup(host)
		switch {
		case err == nil:
			ttl := TTL(d)
			return &site{surf: surf, d: d, ttl: ttl, bucket: bucketFor(ttl), versions: make(map[string]string)}, true
		case errors.Is(err, domain.ErrNotFound):
			return nil, true
		}
		// A storage failure is not an answer to remember.
		return nil, false
	})
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
