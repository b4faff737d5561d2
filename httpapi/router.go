package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rendercache/rendercache/api"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/errkind"
)

// Config configures a Router. The zero value works.
type Config struct {
	// RequestTimeout bounds each request's work inside the cluster;
	// default 15s.
	RequestTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is served on /metrics; nil
	// creates a private one.
	Registry *prometheus.Registry
}

// Handler is an API surface's handler: it writes a success response or
// returns an error, which the Router writes through the one error map
// (WriteError). Handlers never write error responses themselves.
type Handler func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error

// Registrar takes a surface's routes; *Router is one. Surfaces' Register
// functions accept it, so that a test can collect their routes.
type Registrar interface {
	// Handle registers h under method and path (httprouter syntax).
	Handle(method, path string, h Handler)
}

var _ Registrar = (*Router)(nil)

// Route is one method and path pattern registered on the router, in
// httprouter's syntax (/api/keys/:id).
type Route struct {
	Method, Path string
}

// Router is the public listener's API router: every route registered on
// it gets metrics, a request deadline, one read scope, and its errors
// mapped by WriteError; unknown paths get the JSON 404 and known paths
// under another method the JSON 405 with Allow. It serves /metrics and
// the OpenAPI document itself. Register every route before serving;
// after that it is safe for concurrent use.
type Router struct {
	cfg    Config
	log    *slog.Logger
	router *httprouter.Router
	routes []Route

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewRouter returns a Router with /metrics, /openapi.yaml and
// /openapi.json registered; the surfaces add the rest.
func NewRouter(cfg Config) *Router {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Router{
		cfg:    cfg,
		log:    cfg.Logger.With("subsystem", "httpapi"),
		router: httprouter.New(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rendercache_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rendercache_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"route", "method"}),
	}
	cfg.Registry.MustRegister(s.requests, s.latency)

	r := s.router
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true
	r.NotFound = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.observe("notfound", w, req, func(w http.ResponseWriter, req *http.Request) error { return ErrNotFound })
	})
	// httprouter sets the Allow header before calling this handler.
	r.MethodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.observe("notallowed", w, req, func(w http.ResponseWriter, req *http.Request) error {
			return methodNotAllowed(req.Method, w.Header().Get("Allow"))
		})
	})
	r.PanicHandler = func(w http.ResponseWriter, req *http.Request, v any) {
		s.log.Error("handler panic", "method", req.Method, "path", req.URL.Path, "panic", v)
		WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	}

	metrics := promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})
	s.handle(http.MethodGet, "/metrics", func(w http.ResponseWriter, req *http.Request, _ httprouter.Params) { metrics.ServeHTTP(w, req) })
	s.registerSpecRoutes()
	return s
}

// Handle registers h under method and path (httprouter syntax) with
// metrics, the request deadline, the read scope and error mapping. Call
// it before the router serves: registration is not safe for concurrent
// use.
func (s *Router) Handle(method, path string, h Handler) {
	s.handle(method, path, func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		s.observe(path, w, r, func(w http.ResponseWriter, r *http.Request) error { return h(w, r, ps) })
	})
}

// ServeHTTP implements http.Handler: the API. The cache surfaces (the
// serve path) are edge's, in front of it.
func (s *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.router.ServeHTTP(w, r)
}

// HasRoute reports whether the API has a route for r's path under any
// method: the public handler (edge) gives a host it does not know one
// fresh lookup before the API answers 404, but never delays a request
// the API would answer.
func (s *Router) HasRoute(r *http.Request) bool {
	for _, m := range routeMethods {
		if h, _, _ := s.router.Lookup(m, r.URL.Path); h != nil {
			return true
		}
	}
	return false
}

// routeMethods are the methods the API registers routes under.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete}

// WriteError writes err as the API writes its own errors (the one
// error→status map), for the data plane's refusals; errors without a kind
// are logged with the router's logger.
func (s *Router) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, s.log, err)
}

// Routes returns every route registered on the router, in registration
// order, so that a test can hold them against the OpenAPI document
// (api/openapi.yaml): a route added without a spec entry fails it.
func (s *Router) Routes() []Route { return slices.Clone(s.routes) }

// handle registers h on the router and records the route for Routes.
// Every registration goes through here.
func (s *Router) handle(method, path string, h httprouter.Handle) {
	s.routes = append(s.routes, Route{Method: method, Path: path})
	s.router.Handle(method, path, h)
}

// observe runs h under the request deadline, maps its error and records
// metrics under route.
func (s *Router) observe(route string, w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request) error) {
	start := time.Now()
	// One read barrier per request: authentication takes it (credentials
	// are always checked against fresh state) and the handler's reads
	// reuse it.
	ctx, cancel := context.WithTimeout(consensus.WithReadScope(r.Context()), s.cfg.RequestTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	if err := h(rec, r); err != nil {
		writeError(rec, r, s.log, err)
	}
	s.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Inc()
	s.latency.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
}

// registerSpecRoutes serves the OpenAPI document the binary embeds, as
// written and as JSON; the JSON is converted once, here at start.
func (s *Router) registerSpecRoutes() {
	js, err := api.JSON()
	s.Handle(http.MethodGet, "/openapi.yaml", func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
		writeBytes(w, "application/yaml; charset=utf-8", api.YAML())
		return nil
	})
	s.Handle(http.MethodGet, "/openapi.json", func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
		if err != nil {
			return errkind.New(errkind.Internal, err.Error())
		}
		writeBytes(w, "application/json; charset=utf-8", js)
		return nil
	})
}

// writeBytes writes a 200 with body as it is.
func writeBytes(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// statusRecorder remembers the status a handler wrote, for the metrics.
type statusRecorder struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.code = code
		s.wroteHeader = true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
