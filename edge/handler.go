package edge

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rendercache/rendercache/internal/errkind"
)

var (
	// ErrUnknownHost refuses a host that a surface claims but that is
	// not registered, even after a fresh lookup.
	ErrUnknownHost = errkind.New(errkind.NotFound, "not found")
)

// Config wires a Handler. Surfaces, API and Hot are required.
type Config struct {
	// Surfaces are asked in order which of them a request's host is.
	Surfaces []Surface
	// API answers every request no surface takes: the management API.
	API http.Handler
	// APIRoutes reports whether the API has a route for r's path. A
	// request whose host no surface knows locally, and that the API has
	// no route for, gets one fresh lookup before the API answers 404:
	// the host may be a domain created a moment ago on another node.
	// Nil means the API never has a route (every unknown host gets the
	// fresh lookup).
	APIRoutes func(r *http.Request) bool
	// Fresh waits until local state holds every write acknowledged
	// anywhere before the call (consensus.Raft.Fresh, a read-index
	// barrier). Nil: local state is all there is (tests of one node).
	Fresh func(ctx context.Context) error
	// Hot keeps ready answers in front of the surfaces' fills.
	Hot *HotMap
	// Node is sent as X-Rendercache-Served-By on every cached answer.
	Node string
	// MissTimeout bounds a miss, which may wait for a render; default
	// 90s. Hits never make a context.
	MissTimeout time.Duration
	// FreshTimeout bounds the fresh lookup of an unknown host; default
	// 10s.
	FreshTimeout time.Duration
	// Errors writes an error response, as the management API writes
	// its own (httpapi's one error→status map). Default: a bare 500.
	Errors func(w http.ResponseWriter, r *http.Request, err error)
	// Registry receives the data plane's metrics; nil: not exported.
	Registry prometheus.Registerer
	// Logger defaults to slog.Default(); nothing is logged per hit.
	Logger *slog.Logger
	// Now is the clock of Age and Cache-Status; default time.Now.
	Now func() time.Time
}

// Handler is the public listener's handler: it dispatches each request
// by host to a surface's site, serves a site's cached answers from the
// hot map with edge's HTTP semantics and fills misses through the
// surface, and hands everything else to the management API. It is safe
// for concurrent use.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	surfaces []surfaceOf
	routers  []routerOf
	servedBy []string
	fresh    freshMetrics
}

type surfaceOf struct {
	Surface
	m *surfaceMetrics
}

type routerOf struct {
	Router
	m *surfaceMetrics
}

// keyBufs holds the buffers that hits build their keys in.
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// NewHandler returns the handler over cfg, registering its metrics.
func NewHandler(cfg Config) *Handler {
	if cfg.MissTimeout <= 0 {
		cfg.MissTimeout = 90 * time.Second
	}
	if cfg.FreshTimeout <= 0 {
		cfg.FreshTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Errors == nil {
		cfg.Errors = func(w http.ResponseWriter, _ *http.Request, _ error) {
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}
	h := &Handler{cfg: cfg, log: cfg.Logger.With("subsystem", "edge"), servedBy: []string{cfg.Node}}
	mv := newMetrics(cfg.Registry, cfg.Hot)
	for _, s := range cfg.Surfaces {
		m := mv.forSurface(s.Name())
		h.surfaces = append(h.surfaces, surfaceOf{s, m})
		if rt, ok := s.(Router); ok {
			h.routers = append(h.routers, routerOf{rt, m})
		}
	}
	h.fresh = mv.fresh
	return h
}

// ServeHTTP dispatches r: a host a surface knows locally is that
// surface's; then a Router's path; then, for a host the API has no route
// for, one fresh lookup; then the management API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, hostOK := CanonicalHost(r.Host)
	if hostOK {
		for i := range h.surfaces {
			if site, ok := h.surfaces[i].Site(host); ok {
				h.serve(w, r, h.surfaces[i].m, site)
				return
			}
		}
	}
	for i := range h.routers {
		site, ok, err := h.routers[i].Route(r)
		if err != nil {
			h.routers[i].m.errors.Inc()
			h.cfg.Errors(w, r, err)
			return
		}
		if ok {
			h.serve(w, r, h.routers[i].m, site)
			return
		}
	}
	if hostOK && h.unknownHost(w, r, host) {
		return
	}
	h.cfg.API.ServeHTTP(w, r)
}

// unknownHost gives a host that no surface knows locally its one fresh
// lookup, unless it goes to the API anyway (the API has a route for r
// and no surface claims the host). It reports whether it answered r.
func (h *Handler) unknownHost(w http.ResponseWriter, r *http.Request, host string) bool {
	claimed := false
	for i := range h.surfaces {
		if h.surfaces[i].Claims(host) {
			claimed = true
			break
		}
	}
	if !claimed && h.cfg.APIRoutes != nil && h.cfg.APIRoutes(r) {
		return false
	}
	if h.cfg.Fresh != nil {
		ctx, cancel := context.WithTimeout(r.Context(), h.cfg.FreshTimeout)
		err := h.cfg.Fresh(ctx)
		cancel()
		if err != nil {
			// Without fresh state the node cannot tell a new host from
			// no host: the client may retry (503 with Retry-After).
			h.fresh.failed.Inc()
			h.cfg.Errors(w, r, err)
			return true
		}
	}
	for i := range h.surfaces {
		if site, ok := h.surfaces[i].Site(host); ok {
			h.fresh.found.Inc()
			h.serve(w, r, h.surfaces[i].m, site)
			return true
		}
	}
	h.fresh.unknown.Inc()
	if claimed {
		h.cfg.Errors(w, r, ErrUnknownHost)
		return true
	}
	return false
}

// serve answers a request of site: from the hot map when it holds the
// key (a hit: no allocation here, no context, no log), else through the
// site's fill, whose answer the hot map then keeps.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, m *surfaceMetrics, site Site) {
	bp := keyBufs.Get().(*[]byte)
	key, ok, err := site.Key((*bp)[:0], r)
	if err != nil || !ok {
		keyBufs.Put(bp)
		h.pass(w, r, m, site, err)
		return
	}
	if a, hit := h.cfg.Hot.GetBytes(key); hit {
		*bp = key
		keyBufs.Put(bp)
		w.Header()["X-Rendercache-Served-By"] = h.servedBy
		Serve(w, r, a, Hit, h.cfg.Now())
		m.hits.Inc()
		return
	}
	k := string(key)
	*bp = key
	keyBufs.Put(bp)

	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.MissTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	start := time.Now()
	a, outcome, err := site.Fill(ctx, r, k)
	m.fill.Observe(time.Since(start).Seconds())
	if err != nil {
		h.passFailed(w, r, m, site, err)
		return
	}
	h.cfg.Hot.Put(k, a)
	w.Header()["X-Rendercache-Served-By"] = h.servedBy
	Serve(w, r, a, outcome, h.cfg.Now())
	if outcome == Miss {
		m.misses.Inc()
	} else {
		m.hits.Inc()
	}
}

// pass answers a request that is not cached (err nil) or that Key
// refused (err set).
func (h *Handler) pass(w http.ResponseWriter, r *http.Request, m *surfaceMetrics, site Site, err error) {
	if err != nil {
		m.errors.Inc()
		h.cfg.Errors(w, r, err)
		return
	}
	m.passes.Inc()
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.MissTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	if err := site.Pass(w, r, nil); err != nil {
		m.errors.Inc()
		h.cfg.Errors(w, r, err)
	}
}

// passFailed lets the site answer a failed fill its own way, or writes
// the error.
func (h *Handler) passFailed(w http.ResponseWriter, r *http.Request, m *surfaceMetrics, site Site, err error) {
	if err = site.Pass(w, r, err); err != nil {
		m.errors.Inc()
		h.cfg.Errors(w, r, err)
		return
	}
	m.bypasses.Inc()
}
