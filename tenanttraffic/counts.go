package tenanttraffic

import (
	"cmp"
	"slices"
	"strings"
)

// Surfaces of a tenant host.
const (
	SurfaceAPI     = "api"
	SurfaceWebsite = "website"
)

// Cache states, as x-cachely-cache names them.
const (
	CacheHit    = "HIT"
	CacheMiss   = "MISS"
	CacheBypass = "BYPASS"
)

// Bounds of what is counted.
const (
	// TopPaths is how many paths a report keeps per tenant, day and
	// surface, and an answer shows.
	TopPaths = 10
	// trackPaths is how many paths a node counts per tenant, day and
	// surface.
	trackPaths = 64
	// maxPath is the longest path kept, in bytes.
	maxPath = 256
)

// Counts are one surface's figures over a span.
type Counts struct {
	Requests int64 `json:"requests"`
	Hits     int64 `json:"hits"`
	Misses   int64 `json:"misses"`
	Bypass   int64 `json:"bypass"`
	Bytes    int64 `json:"bytes"`
	S2xx     int64 `json:"s2xx"`
	S3xx     int64 `json:"s3xx"`
	S4xx     int64 `json:"s4xx"`
	S5xx     int64 `json:"s5xx"`
}

// add counts one request.
func (c *Counts) add(status int, bytes int64, cache string) {
	c.Requests++
	c.Bytes += bytes
	switch cache {
	case CacheHit:
		c.Hits++
	case CacheMiss:
		c.Misses++
	default:
		c.Bypass++
	}
	switch status / 100 {
	case 2:
		c.S2xx++
	case 3:
		c.S3xx++
	case 4:
		c.S4xx++
	case 5:
		c.S5xx++
	}
}

// plus adds o to c.
func (c *Counts) plus(o Counts) {
	c.Requests += o.Requests
	c.Hits += o.Hits
	c.Misses += o.Misses
	c.Bypass += o.Bypass
	c.Bytes += o.Bytes
	c.S2xx += o.S2xx
	c.S3xx += o.S3xx
	c.S4xx += o.S4xx
	c.S5xx += o.S5xx
}

// valid reports whether every figure is non-negative.
func (c Counts) valid() bool {
	return min(c.Requests, c.Hits, c.Misses, c.Bypass, c.Bytes, c.S2xx, c.S3xx, c.S4xx, c.S5xx) >= 0
}

// PathCount is a path and its requests.
type PathCount struct {
	Path     string `json:"path"`
	Requests int64  `json:"requests"`
}

// SurfaceDay is one surface's day on one node (or summed over nodes).
type SurfaceDay struct {
	Counts
	Paths []PathCount `json:"paths,omitempty"`
}

// Day is a tenant's day: both surfaces.
type Day struct {
	API     SurfaceDay `json:"api"`
	Website SurfaceDay `json:"website"`
}

// requests is the day's request count over both surfaces; a node's
// running totals only grow, so it orders a node's reports.
func (d Day) requests() int64 { return d.API.Requests + d.Website.Requests }

func (d Day) valid() bool {
	for _, s := range []SurfaceDay{d.API, d.Website} {
		if !s.valid() || len(s.Paths) > TopPaths {
			return false
		}
		for _, p := range s.Paths {
			if p.Path == "" || len(p.Path) > maxPath || p.Requests < 0 {
				return false
			}
		}
	}
	return true
}

// merger sums days, their paths included.
type merger struct {
	api, website       Counts
	apiPaths, webPaths map[string]int64
}

func newMerger() *merger {
	return &merger{apiPaths: map[string]int64{}, webPaths: map[string]int64{}}
}

func (m *merger) add(d Day) {
	m.api.plus(d.API.Counts)
	m.website.plus(d.Website.Counts)
	for _, p := range d.API.Paths {
		m.apiPaths[p.Path] += p.Requests
	}
	for _, p := range d.Website.Paths {
		m.webPaths[p.Path] += p.Requests
	}
}

// day returns the sum, with the top TopPaths paths of each surface.
func (m *merger) day() Day {
	return Day{
		API:     SurfaceDay{Counts: m.api, Paths: top(m.apiPaths, TopPaths)},
		Website: SurfaceDay{Counts: m.website, Paths: top(m.webPaths, TopPaths)},
	}
}

// top returns the k most requested paths, most first, ties by path.
func top(paths map[string]int64, k int) []PathCount {
	out := make([]PathCount, 0, len(paths))
	for p, n := range paths {
		out = append(out, PathCount{Path: p, Requests: n})
	}
	slices.SortFunc(out, func(a, b PathCount) int {
		if c := cmp.Compare(b.Requests, a.Requests); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// clip cuts p to maxPath bytes on a rune boundary.
func clip(p string) string {
	if len(p) <= maxPath {
		return p
	}
	return strings.ToValidUTF8(p[:maxPath], "")
}
