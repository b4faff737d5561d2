package page

import (
	"strconv"
	"strings"

	"github.com/rendercache/rendercache/render"
)

// Key names one cached page: kind/owner/version/variant/url, as DESIGN.md
// lays out. The version changes on every purge of the domain (or of the
// one path), so old entries are simply never asked for again.
type Key struct {
	Domain  string
	Version string
	Variant render.Variant
	URL     string // from NormalizeURL
}

// keyPrefix is the kind part of every render key.
const keyPrefix = "render/"

// String returns the key's stable text form.
func (k Key) String() string {
	return keyPrefix + k.Domain + "/" + k.Version + "/" + string(k.Variant) + k.URL
}

// AppendGroupKey appends to b the name a page is known by in the
// cluster's cache and in every node's hot map: Key.String's form, then a
// NUL and the cache generation (see bucketFor). It is how a hit builds its
// key in a reused buffer, without allocating.
func AppendGroupKey(b []byte, domain, version string, variant render.Variant, url string, generation int64) []byte {
	b = append(b, keyPrefix...)
	b = append(b, domain...)
	b = append(b, '/')
	b = append(b, version...)
	b = append(b, '/')
	b = append(b, variant...)
	b = append(b, url...)
	b = append(b, 0)
	return strconv.AppendInt(b, generation, 10)
}

// DomainPrefix is the prefix of every store key of domain, for listing.
func DomainPrefix(domain string) string { return keyPrefix + domain + "/" }

// StoreKey is the key's name in the L2 page store. It sorts by URL, then
// version and variant, so a domain's listing walks pages in URL order with
// every version and variant of a page side by side:
// render/<domain>/<url> <version> <variant>. Normalised URLs never contain
// a space.
func (k Key) StoreKey() string {
	return keyPrefix + k.Domain + k.URL + " " + k.Version + " " + string(k.Variant)
}

// ParseStoreKey is the inverse of Key.StoreKey.
func ParseStoreKey(s string) (Key, error) {
	rest, ok := strings.CutPrefix(s, keyPrefix)
	if !ok {
		return Key{}, ErrBadURL
	}
	slash := strings.IndexByte(rest, '/')
	sp2 := strings.LastIndexByte(rest, ' ')
	if slash <= 0 || sp2 < 0 {
		return Key{}, ErrBadURL
	}
	sp1 := strings.LastIndexByte(rest[:sp2], ' ')
	if sp1 < slash {
		return Key{}, ErrBadURL
	}
	v := render.Variant(rest[sp2+1:])
	if v != render.Desktop && v != render.Mobile {
		return Key{}, ErrBadURL
	}
	return Key{Domain: rest[:slash], URL: rest[slash:sp1], Version: rest[sp1+1 : sp2], Variant: v}, nil
}

// ParseKey is the inverse of Key.String.
func ParseKey(s string) (Key, error) {
	rest, ok := strings.CutPrefix(s, keyPrefix)
	if !ok {
		return Key{}, ErrBadURL
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) != 4 || parts[0] == "" || parts[1] == "" {
		return Key{}, ErrBadURL
	}
	v := render.Variant(parts[2])
	if v != render.Desktop && v != render.Mobile {
		return Key{}, ErrBadURL
	}
	return Key{Domain: parts[0], Version: parts[1], Variant: v, URL: "/" + parts[3]}, nil
}
