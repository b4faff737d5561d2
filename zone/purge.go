package zone

import (
	"strconv"
	"strings"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/storage"
)

// A purge never touches cached objects: it bumps a version, in O(1)
// whatever the cache holds. A hard purge's versions are part of every
// object's cache key, so the next request is a miss; a soft purge's
// versions are recorded by each object at fill time and compared at read
// time, so an object filled before one is stale (served while one refetch
// revalidates it). Per-path, per-prefix and per-tag versions live under
// zone-ver/<id>/<h|s>/<kind>/<value>; whole-zone ones in the Zone.

// Kind is what a purge targets.
type Kind string

// Purge kinds.
const (
	KindZone   Kind = "zone"
	KindPath   Kind = "path"
	KindPrefix Kind = "prefix"
	KindTag    Kind = "tag"
)

// MaxTagLen bounds a tag, as CDNs bound Cache-Tag entries.
const MaxTagLen = 256

// Target is one purge: the whole zone, a path, a prefix or a tag, hard or
// soft.
type Target struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
	Soft  bool   `json:"soft"`
}

// ParseTarget turns the API's purge parameters into a Target: no path and
// no tag is the whole zone, a path ending in "/*" a prefix (the part
// before "*", ending in "/"), any other path one object, in CleanPath's
// form. Giving both path and tag is refused.
func ParseTarget(path, tag string, soft bool) (Target, error) {
	switch {
	case path != "" && tag != "":
		return Target{}, ErrBadPurge
	case tag != "":
		t, err := NormalizeTag(tag)
		if err != nil {
			return Target{}, err
		}
		return Target{Kind: KindTag, Value: t, Soft: soft}, nil
	case path == "":
		return Target{Kind: KindZone, Soft: soft}, nil
	}
	if len(path) > MaxPurgeValueLen || path[0] != '/' {
		return Target{}, ErrBadPurge
	}
	kind := KindPath
	if p, ok := strings.CutSuffix(path, "*"); ok {
		if !strings.HasSuffix(p, "/") {
			return Target{}, ErrBadPurge
		}
		kind, path = KindPrefix, p
	}
	clean, err := origin.CleanPath(path)
	if err != nil {
		return Target{}, ErrBadPurge
	}
	if kind == KindPrefix && !strings.HasSuffix(clean, "/") {
		clean += "/"
	}
	return Target{Kind: kind, Value: clean, Soft: soft}, nil
}

// NormalizeTag trims t and checks it is 1 to MaxTagLen printable ASCII
// characters without spaces or commas (the separators of Cache-Tag).
func NormalizeTag(t string) (string, error) {
	t = strings.TrimSpace(t)
	if t == "" || len(t) > MaxTagLen {
		return "", ErrBadPurge
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c >= 0x7f || c == ',' {
			return "", ErrBadPurge
		}
	}
	return t, nil
}

// valid reports whether t is a Target that ParseTarget could return; Apply
// trusts nothing else.
func (t Target) valid() bool {
	switch t.Kind {
	case KindZone:
		return t.Value == ""
	case KindPath, KindPrefix:
		return t.Value != "" && t.Value[0] == '/' && len(t.Value) <= MaxPurgeValueLen
	case KindTag:
		_, err := NormalizeTag(t.Value)
		return err == nil
	}
	return false
}

type purgeRequest struct {
	AccountID string `json:"accountId"`
	Mode      Mode   `json:"mode"`
	ID        string `json:"id"`
	Target    Target `json:"target"`
}

func applyPurge(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req purgeRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	if !req.Target.valid() {
		return nil, ErrBadPurge
	}
	z, err := Owned(tx, req.AccountID, req.Mode, req.ID)
	if err != nil {
		return nil, err
	}
	t := req.Target
	if t.Kind == KindZone {
		if t.Soft {
			z.SoftVersion++
			return z, record.Put(tx, prefixZone+z.ID, z)
		}
		// Every finer version is moot once the zone's own moved: no key
		// that carried one is asked for again.
		z.Version++
		if err := record.DeletePrefix(tx, prefixVersion+z.ID+"/"); err != nil {
			return nil, err
		}
		return z, record.Put(tx, prefixZone+z.ID, z)
	}
	k := versionKey(z.ID, t.Soft, t.Kind, t.Value)
	v, err := counter(tx, k)
	if err != nil {
		return nil, err
	}
	return z, record.Put(tx, k, v+1)
}

func versionKey(id string, soft bool, k Kind, value string) string {
	hs := "h"
	if soft {
		hs = "s"
	}
	return prefixVersion + id + "/" + hs + "/" + string(k) + "/" + value
}

// counter reads a version counter; a missing one is 0.
func counter(r record.Reader, key string) (uint64, error) {
	v, err := record.Get[uint64](r, key, errNoCounter)
	if err == errNoCounter {
		return 0, nil
	}
	return v, err
}

// Versions are the purge counters that apply to one path of a zone: Key
// goes into the object's cache key, Soft is compared with what the object
// recorded at fill time.
type Versions struct {
	Key  string
	Soft uint64
}

// VersionsOf returns the versions that apply to path (CleanPath's form)
// of z, from local state: the zone's, the path's and every prefix's that
// contains it (one per "/" of path). The key starts with the zone's
// creation time, so a name deleted and created again never sees its
// predecessor's objects.
func VersionsOf(r record.Reader, z Zone, path string) Versions {
	hard, soft := z.Version, z.SoftVersion
	hp, _ := counter(r, versionKey(z.ID, false, KindPath, path))
	sp, _ := counter(r, versionKey(z.ID, true, KindPath, path))
	var hpre, spre uint64
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			pre := path[:i+1]
			h, _ := counter(r, versionKey(z.ID, false, KindPrefix, pre))
			s, _ := counter(r, versionKey(z.ID, true, KindPrefix, pre))
			hpre, spre = hpre+h, spre+s
		}
	}
	key := strconv.FormatInt(z.Created.UnixMilli(), 36) + "." + strconv.FormatUint(hard, 10) + "." +
		strconv.FormatUint(hp, 10) + "." + strconv.FormatUint(hpre, 10)
	return Versions{Key: key, Soft: soft + sp + spre}
}

// TagVersion returns a tag's hard and soft purge counts in zone id: an
// object records them when it is filled, and one whose tag moved since is
// a miss (hard) or stale (soft).
func TagVersion(r record.Reader, id, tag string) (hard, soft uint64) {
	hard, _ = counter(r, versionKey(id, false, KindTag, tag))
	soft, _ = counter(r, versionKey(id, true, KindTag, tag))
	return hard, soft
}
