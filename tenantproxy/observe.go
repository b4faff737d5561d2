package tenantproxy

import (
	"net/http"
	"strings"
	"time"
)

// Surfaces of a tenant host, as an Observation names them.
const (
	// SurfaceAPI is the CMS API proxy under /~api/.
	SurfaceAPI = "api"
	// SurfaceWebsite is every other path of a tenant host.
	SurfaceWebsite = "website"
)

// Observation is one answered request on a tenant host. Its strings
// point into the request; an Observer that keeps one past the call must
// not modify them.
type Observation struct {
	// Slug is the tenant that served the request.
	Slug string
	// Surface is SurfaceAPI or SurfaceWebsite.
	Surface string
	// Method and Path are the request's; Path carries no query string,
	// so no secret passed as a query parameter reaches an Observer.
	Method, Path string
	// Status is the answer's status code.
	Status int
	// Bytes is the body bytes written to the client.
	Bytes int64
	// Cache is the x-cachely-cache value: HIT, MISS or BYPASS.
	Cache string
	// Start is when the request arrived; Duration how long the answer
	// took.
	Start    time.Time
	Duration time.Duration
}

// Observer is told of every request answered on a tenant host, once,
// after the answer was written, on the serving goroutine: per-tenant
// traffic accounting (tenanttraffic) hooks in here without the surface
// knowing about it. Observe must be cheap and must not block.
type Observer interface {
	Observe(o Observation)
}

// observe reports the request m answered to the Observer, if the host
// names a tenant.
func (s *Surface) observe(r *http.Request, host string, m *markWriter, start time.Time) {
	slug, ok := s.slugOf(host)
	if !ok {
		return
	}
	surface := SurfaceWebsite
	if rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix); ok && (rest == "" || rest[0] == '/') {
		surface = SurfaceAPI
	}
	status := m.status
	if status == 0 {
		status = http.StatusOK // net/http's answer to a handler that wrote nothing
	}
	cache := cacheBypass[0] // a handler that wrote nothing
	if v := m.ResponseWriter.Header()["X-Cachely-Cache"]; len(v) > 0 {
		cache = v[0]
	}
	now := time.Now()
	s.cfg.Observer.Observe(Observation{
		Slug: slug, Surface: surface, Method: r.Method, Path: r.URL.Path,
		Status: status, Bytes: m.bytes, Cache: cache, Start: start, Duration: now.Sub(start),
	})
}

// slugOf returns the slug of the tenant host names (its
// <slug>.<tenant-domain> or an active custom domain), from the view Site
// reads: no allocation on the hit path.
func (s *Surface) slugOf(host string) (string, bool) {
	st, ok := s.view.site(s, host)
	if !ok {
		return "", false
	}
	return st.t.Slug, true
}
