package zone

import (
	"sync"

	"github.com/rendercache/rendercache/internal/record"
)

// view remembers what the serve path read from local state (zones by
// name, the versions of paths and tags) until the state's applied index
// moves, so that a hit costs map lookups instead of Pebble reads. Every
// change to zones or versions is a raft write, which moves the index.
// Safe for concurrent use.
type view struct {
	state   record.Reader
	applied func() uint64 // nil: nothing is remembered

	mu    sync.RWMutex
	idx   uint64
	zones map[string]*site    // nil: no active zone of the name
	vers  map[idKey]Versions  // zone ID, path
	tags  map[idKey][2]uint64 // zone ID, tag
}

// idKey is a zone ID and a path or tag: a map key that costs no
// allocation to look up, unlike their concatenation.
type idKey struct{ id, name string }

// maxViewEntries bounds each map; past it the map starts over.
const maxViewEntries = 50_000

func newView(state record.Reader, applied func() uint64) *view {
	return &view{state: state, applied: applied}
}

// current resets the maps if the applied index moved and returns false
// when nothing may be remembered. The index is read before the state, so
// what is read is at least as new as the index it is filed under.
func (v *view) current() bool {
	if v.applied == nil {
		return false
	}
	idx := v.applied()
	v.mu.RLock()
	same := idx == v.idx && v.zones != nil
	v.mu.RUnlock()
	if same {
		return true
	}
	v.mu.Lock()
	if idx != v.idx || v.zones == nil {
		v.idx = idx
		v.zones, v.vers, v.tags = map[string]*site{}, map[idKey]Versions{}, map[idKey][2]uint64{}
	}
	v.mu.Unlock()
	return true
}

// site returns s's site of the active zone named name, made once per
// applied index, so that a hit does not allocate one.
func (v *view) site(s *Surface, name string) (*site, bool) {
	lookup := func() *site {
		if z, err := ByName(v.state, name); err == nil && z.Active {
			return &site{s: s, z: z}
		}
		return nil
	}
	if !v.current() {
		st := lookup()
		return st, st != nil
	}
	v.mu.RLock()
	st, hit := v.zones[name]
	v.mu.RUnlock()
	if hit {
		return st, st != nil
	}
	st = lookup()
	v.mu.Lock()
	if len(v.zones) >= maxViewEntries {
		v.zones = map[string]*site{}
	}
	v.zones[name] = st
	v.mu.Unlock()
	return st, st != nil
}

func (v *view) versions(z Zone, path string) Versions {
	if !v.current() {
		return VersionsOf(v.state, z, path)
	}
	k := idKey{z.ID, path}
	v.mu.RLock()
	e, hit := v.vers[k]
	v.mu.RUnlock()
	if hit {
		return e
	}
	e = VersionsOf(v.state, z, path)
	v.mu.Lock()
	if len(v.vers) >= maxViewEntries {
		v.vers = map[idKey]Versions{}
	}
	v.vers[k] = e
	v.mu.Unlock()
	return e
}

func (v *view) tag(id, tag string) (hard, soft uint64) {
	if !v.current() {
		return TagVersion(v.state, id, tag)
	}
	k := idKey{id, tag}
	v.mu.RLock()
	e, hit := v.tags[k]
	v.mu.RUnlock()
	if hit {
		return e[0], e[1]
	}
	e[0], e[1] = TagVersion(v.state, id, tag)
	v.mu.Lock()
	if len(v.tags) >= maxViewEntries {
		v.tags = map[idKey][2]uint64{}
	}
	v.tags[k] = e
	v.mu.Unlock()
	return e[0], e[1]
}
