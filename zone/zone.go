package zone

import (
	"errors"
	"strings"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
)

// Mode separates an account's production zones from its test zones: a key
// of one mode neither sees nor touches the other mode's zones.
type Mode string

// The modes, chosen by the API key's prefix (rk_live_ or rk_test_).
const (
	Live Mode = "live"
	Test Mode = "test"
)

// Valid reports whether m is Live or Test.
func (m Mode) Valid() bool { return m == Live || m == Test }

// Bounds of what a zone stores. Everything that reaches raft is bounded.
const (
	// MaxNameLen is a DNS label's limit.
	MaxNameLen = 63
	// MaxPurgeValueLen bounds a purged path, prefix or tag.
	MaxPurgeValueLen = 2048
	// IDPrefix starts every zone ID.
	IDPrefix = "zone_"
)

var (
	// ErrNotFound means the zone does not exist or is another account's:
	// the two are indistinguishable to callers.
	ErrNotFound = errkind.New(errkind.NotFound, "zone not found")
	// ErrOtherMode means the zone is the caller's, but of the other mode
	// (a test key asking for a live zone, or the reverse).
	ErrOtherMode = errkind.New(errkind.Forbidden, "this API key's mode cannot access this zone")
	// ErrTaken means another zone, of any account or mode, has the name.
	ErrTaken = errkind.New(errkind.Conflict, "zone name is already taken")
	// ErrZoneLimit is the 403 of a plan whose live zones are used up.
	ErrZoneLimit = errkind.New(errkind.Forbidden, "zone limit reached for your subscription plan")
	// ErrBadName refuses a name that is not a DNS label.
	ErrBadName = errkind.New(errkind.Invalid, `field "name" must be a DNS label: 1 to 63 lowercase letters, digits or '-', not starting or ending with '-'`)
	// ErrOriginRequired refuses a create without an origin.
	ErrOriginRequired = errkind.New(errkind.Invalid, `field "origin" is required`)
	// ErrNameRequired refuses a create without a name.
	ErrNameRequired = errkind.New(errkind.Invalid, `field "name" is required`)
	// ErrBadPurge refuses a purge whose path, prefix or tag is malformed.
	ErrBadPurge = errkind.New(errkind.Invalid, "purge: path must start with '/', a prefix ends with '/*', a tag is 1 to 256 printable characters, not both")
	// errNoCounter marks a version counter never bumped (read as 0); it
	// never leaves the package.
	errNoCounter = errors.New("zone: no counter")
)

// Zone is one asset zone as stored in raft. Versions are bumped by purges
// and are part of every cache key of the zone's objects.
type Zone struct {
	ID        string    `json:"id"`
	AccountID string    `json:"accountId"`
	Mode      Mode      `json:"mode"`
	Name      string    `json:"name"`
	Origin    string    `json:"origin"`
	Active    bool      `json:"active"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	// Version counts whole-zone hard purges; SoftVersion whole-zone soft
	// purges (objects filled before it are stale, not gone).
	Version     uint64 `json:"version"`
	SoftVersion uint64 `json:"softVersion"`
}

// NormalizeName lowercases name and checks that it is a DNS label.
func NormalizeName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" || len(n) > MaxNameLen || n[0] == '-' || n[len(n)-1] == '-' {
		return "", ErrBadName
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "", ErrBadName
		}
	}
	return n, nil
}

// ValidID reports whether id has the shape of a zone ID, so that a
// malformed one never reaches raft or a state key.
func ValidID(id string) bool {
	rest, ok := strings.CutPrefix(id, IDPrefix)
	if !ok || len(rest) == 0 || len(rest) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
