package zone

import (
	"errors"

	"github.com/rendercache/rendercache/internal/indexmemo"
	"github.com/rendercache/rendercache/internal/record"
)

// view remembers what the serve path read from local state (zones by
// name, the versions of paths and tags) until the state's applied index
// moves (indexmemo), so that a hit costs map lookups instead of Pebble
// reads. Every change to zones or versions is a raft write, which moves
// the index. Safe for concurrent use.
type view struct {
	state record.Reader
	zones *indexmemo.Memo[string, *site] // nil: no active zone of the name
	vers  *indexmemo.Memo[idKey, Versions]
	tags  *indexmemo.Memo[idKey, [2]uint64] // hard, soft
}

// idKey is a zone ID and a path or tag: a map key that costs no
// allocation to look up, unlike their concatenation.
type idKey struct{ id, name string }

// maxViewEntries bounds each memo per applied index.
const maxViewEntries = 50_000

// newView returns the view; a nil applied remembers nothing.
func newView(state record.Reader, applied func() uint64) *view {
	return &view{
		state: state,
		zones: indexmemo.New[string, *site](applied, maxViewEntries),
		vers:  indexmemo.New[idKey, Versions](applied, maxViewEntries),
		tags:  indexmemo.New[idKey, [2]uint64](applied, maxViewEntries),
	}
}

// site returns s's site of the active zone named name, made once per
// applied index, so that a hit does not allocate one.
func (v *view) site(s *Surface, name string) (*site, bool) {
	st := v.zones.Get(name, func() (*site, bool) {
		z, err := ByName(v.state, name)
		switch {
		case err == nil && z.Active:
			return &site{s: s, z: z}, true
		case err == nil || errors.Is(err, ErrNotFound):
			return nil, true
		}
		return nil, false // a read error is not an answer to remember
	})
	return st, st != nil
}

// versions returns the versions that apply to path of z.
func (v *view) versions(z Zone, path string) Versions {
	return v.vers.Get(idKey{z.ID, path}, func() (Versions, bool) {
		return VersionsOf(v.state, z, path), true
	})
}

// tag returns the hard and soft versions of a tag of the zone id.
func (v *view) tag(id, tag string) (hard, soft uint64) {
	e := v.tags.Get(idKey{id, tag}, func() ([2]uint64, bool) {
		h, s := TagVersion(v.state, id, tag)
		return [2]uint64{h, s}, true
	})
	return e[0], e[1]
}
