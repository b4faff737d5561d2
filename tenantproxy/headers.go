package tenantproxy

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rendercache/rendercache/edge"
)

// Header values of x-cachely-cache.
var (
	cacheHit    = []string{"HIT"}
	cacheMiss   = []string{"MISS"}
	cacheBypass = []string{"BYPASS"}
)

// Wrap returns next (the edge handler) with the headers cachely-check
// proves service by on every answer of a tenant host: x-cachely-cache
// (HIT, MISS or BYPASS, read from the Cache-Status that edge or Pass
// wrote), x-cachely-node, and x-cachely-version (which the answer
// carries). Requests for other hosts go to next untouched.
func (s *Surface) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, ok := edge.CanonicalHost(r.Host)
		if !ok || !s.tenantHost(host) {
			next.ServeHTTP(w, r)
			return
		}
		m := markWriters.Get().(*markWriter)
		*m = markWriter{ResponseWriter: w, node: s.node}
		defer func() {
			// net/http forbids using the writer once ServeHTTP returned.
			*m = markWriter{}
			markWriters.Put(m)
		}()
		if s.cfg.Observer == nil {
			next.ServeHTTP(m, r)
			return
		}
		start := time.Now()
		next.ServeHTTP(m, r)
		s.observe(r, host, m, start)
	})
}

// markWriters recycles markWriters: one per request on a tenant host
// would be an allocation on every hit.
var markWriters = sync.Pool{New: func() any { return new(markWriter) }}

// markWriter adds the x-cachely-* fields when the status is written, and
// keeps the status and body bytes for the Observer.
type markWriter struct {
	http.ResponseWriter
	node   []string
	wrote  bool
	status int
	bytes  int64
}

func (m *markWriter) WriteHeader(code int) {
	if !m.wrote {
		m.wrote = true
		m.status = code
		h := m.ResponseWriter.Header()
		if h["X-Cachely-Cache"] == nil {
			cs := h.Get("Cache-Status")
			switch {
			case strings.Contains(cs, "; hit"):
				h["X-Cachely-Cache"] = cacheHit
			case strings.Contains(cs, "fwd=miss"):
				h["X-Cachely-Cache"] = cacheMiss
			default:
				h["X-Cachely-Cache"] = cacheBypass
			}
		}
		h["X-Cachely-Node"] = m.node
	}
	m.ResponseWriter.WriteHeader(code)
}

func (m *markWriter) Write(b []byte) (int, error) {
	if !m.wrote {
		m.WriteHeader(http.StatusOK)
	}
	n, err := m.ResponseWriter.Write(b)
	m.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flushes).
func (m *markWriter) Unwrap() http.ResponseWriter { return m.ResponseWriter }
