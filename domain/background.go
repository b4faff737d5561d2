package domain

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Bounds and defaults of the quality guard and proactive recache
// settings.
const (
	// MaxSoftErrorMarkers bounds a domain's soft-error markers, and
	// MaxSoftErrorMarkerLen each one's bytes: they travel through raft.
	MaxSoftErrorMarkers   = 20
	MaxSoftErrorMarkerLen = 200
	// DefaultRecacheLead is the share of the TTL left when a crawled page
	// is re-rendered: with the default 24 h TTL, 2.4 h before it expires.
	DefaultRecacheLead = 0.1
	// MinRecacheLead and MaxRecacheLead bound the lead fraction.
	MinRecacheLead = 0.01
	MaxRecacheLead = 0.9
)

// QualitySettings tune the quality guard, which keeps a cached page when a
// background re-render is clearly worse.
type QualitySettings struct {
	// SoftErrorMarkers are phrases that mark a soft error page (a 200
	// saying "something went wrong"): a re-render whose title or visible
	// text shows one that the cached page does not is rejected. Matched
	// case-insensitively. Default none.
	SoftErrorMarkers []string `json:"softErrorMarkers"`
}

// RecacheSettings tune proactive recache: pages crawlers requested are
// re-rendered before their TTL runs out.
type RecacheSettings struct {
	// Enabled switches proactive recache on (the default).
	Enabled bool `json:"enabled"`
	// LeadFraction is the share of the TTL left when the page is
	// re-rendered (default DefaultRecacheLead).
	LeadFraction float64 `json:"leadFraction"`
}

// DefaultQuality returns the quality settings of a new domain.
func DefaultQuality() QualitySettings { return QualitySettings{SoftErrorMarkers: []string{}} }

// DefaultRecache returns the recache settings of a new domain.
func DefaultRecache() RecacheSettings {
	return RecacheSettings{Enabled: true, LeadFraction: DefaultRecacheLead}
}

// QualityPatch is the quality object of Settings: merged field by field.
type QualityPatch struct {
	SoftErrorMarkers Field[[]string] `json:"softErrorMarkers,omitzero"`
}

// RecachePatch is the recache object of Settings: merged field by field.
type RecachePatch struct {
	Enabled      Field[bool]    `json:"enabled,omitzero"`
	LeadFraction Field[float64] `json:"leadFraction,omitzero"`
}

// UnmarshalJSON reads a stored or proposed domain. Domains written before
// a setting existed lack it and get its default, the same on every node.
func (d *Domain) UnmarshalJSON(b []byte) error {
	type plain Domain
	p := plain{Quality: DefaultQuality(), Recache: DefaultRecache()}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if p.Quality.SoftErrorMarkers == nil {
		p.Quality.SoftErrorMarkers = []string{}
	}
	*d = Domain(p)
	return nil
}

// normalizeBackground validates the quality and recache objects of set
// and returns them in canonical form (markers trimmed, without empty ones
// or duplicates).
func (set Settings) normalizeBackground() (Settings, error) {
	if set.Quality.Set && !set.Quality.Null {
		q := set.Quality.Value
		if f := q.SoftErrorMarkers; f.Set && !f.Null {
			if len(f.Value) > MaxSoftErrorMarkers {
				return Settings{}, bad(fmt.Sprintf("quality.softErrorMarkers: at most %d markers", MaxSoftErrorMarkers))
			}
			out := make([]string, 0, len(f.Value))
			for _, m := range f.Value {
				m = strings.TrimSpace(m)
				if len(m) > MaxSoftErrorMarkerLen || strings.ContainsFunc(m, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					return Settings{}, bad(fmt.Sprintf("quality.softErrorMarkers: each marker is at most %d bytes, without control characters", MaxSoftErrorMarkerLen))
				}
				if m != "" && !slices.Contains(out, m) {
					out = append(out, m)
				}
			}
			q.SoftErrorMarkers.Value = out
		}
		set.Quality.Value = q
	}
	if set.Recache.Set && !set.Recache.Null {
		if f := set.Recache.Value.LeadFraction; f.Set && !f.Null && !(f.Value >= MinRecacheLead && f.Value <= MaxRecacheLead) {
			return Settings{}, bad(fmt.Sprintf("recache.leadFraction must be between %g and %g", MinRecacheLead, MaxRecacheLead))
		}
	}
	return set, nil
}

// mergeBackground is merge for the quality and recache objects.
func mergeBackground(d Domain, set Settings) Domain {
	d.Quality.SoftErrorMarkers = slices.Clone(d.Quality.SoftErrorMarkers)
	if set.Quality.Set {
		def := DefaultQuality()
		if set.Quality.Null {
			d.Quality = def
		}
		if f := set.Quality.Value.SoftErrorMarkers; f.Set {
			d.Quality.SoftErrorMarkers = slices.Clone(f.or(def.SoftErrorMarkers))
		}
	}
	if set.Recache.Set {
		def := DefaultRecache()
		if set.Recache.Null {
			d.Recache = def
		}
		r := set.Recache.Value
		if r.Enabled.Set {
			d.Recache.Enabled = r.Enabled.or(def.Enabled)
		}
		if r.LeadFraction.Set {
			d.Recache.LeadFraction = r.LeadFraction.or(def.LeadFraction)
		}
	}
	if d.Quality.SoftErrorMarkers == nil {
		d.Quality.SoftErrorMarkers = []string{}
	}
	return d
}
