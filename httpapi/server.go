package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/webhook"
)

// Config configures the API server. The zero value plus a Logger works.
type Config struct {
	// MaxBodyBytes bounds JSON bodies; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RequestTimeout bounds each request's work inside the cluster;
	// default 15s.
	RequestTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is served on /metrics; nil
	// creates a private one.
	Registry *prometheus.Registry
}

// ClusterInfo is the body of GET /admin/cluster.
type ClusterInfo struct {
	Leader       string        `json:"leader"`
	Nodes        []ClusterNode `json:"nodes"`
	AppliedIndex uint64        `json:"appliedIndex"`
}

// ClusterNode is one node of ClusterInfo.
type ClusterNode struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Suffrage string `json:"suffrage"`
	HTTPAddr string `json:"httpAddr"`
}

// Cluster is what the API needs to know about the node's cluster.
type Cluster interface {
	// Info describes the cluster as this node sees it.
	Info(ctx context.Context) (ClusterInfo, error)
	// Ready reports whether the node has a leader and is caught up, and
	// why not.
	Ready() (bool, string)
}

// Accounts manages accounts; *account.Service satisfies it.
type Accounts interface {
	Create(ctx context.Context, email, plan string) (account.Account, error)
	Get(ctx context.Context, id string) (account.Account, error)
	List(ctx context.Context) ([]account.Account, error)
	Delete(ctx context.Context, id string) error
	SetPlan(ctx context.Context, id, plan string) (account.Account, error)
}

// AdminAuth checks the operator's bearer token; *operator.Auth satisfies
// it.
type AdminAuth interface {
	Check(token string) bool
}

var _ Accounts = (*account.Service)(nil)

// Keys issues and checks API keys; *apikey.Service satisfies it.
type Keys interface {
	Create(ctx context.Context, accountID string, in apikey.NewKeyInput) (apikey.Created, error)
	List(ctx context.Context, accountID string) ([]apikey.View, error)
	Revoke(ctx context.Context, accountID, id string) error
	Authenticate(ctx context.Context, raw string) (apikey.Principal, error)
}

// Domains manages domains; *domain.Service satisfies it.
type Domains interface {
	Create(ctx context.Context, acct account.Account, p plan.Plan, host string, set domain.Settings) (domain.Domain, error)
	Get(ctx context.Context, accountID, host string) (domain.Domain, error)
	List(ctx context.Context, accountID string) ([]domain.Domain, error)
	Update(ctx context.Context, accountID, host string, set domain.Settings) (domain.Domain, error)
	Delete(ctx context.Context, accountID, host string) error
}

// Webhooks manages webhook tokens; *webhook.Service satisfies it.
type Webhooks interface {
	Create(ctx context.Context, d domain.Domain, p plan.Plan, name string) (webhook.Created, error)
	// List reads local state: d must come from a fresh read
	// (Domains.Get), whose barrier covers the tokens too.
	List(ctx context.Context, d domain.Domain) ([]webhook.View, error)
	Revoke(ctx context.Context, d domain.Domain, id string) error
}

var (
	_ Keys     = (*apikey.Service)(nil)
	_ Domains  = (*domain.Service)(nil)
	_ Webhooks = (*webhook.Service)(nil)
)

// Deps are the components behind the API.
type Deps struct {
	Cluster  Cluster
	Accounts Accounts
	Admin    AdminAuth
	Keys     Keys
	Domains  Domains
	Webhooks Webhooks
	// Plans is the node's plan catalog.
	Plans plan.Catalog
	// Cache manages the render cache; nil disables the Cache, Script and
	// webhook refresh APIs.
	Cache CacheControl
	// Limiter enforces the documented rate limits cluster-wide.
	Limiter Limiter
	// WebhookAuth checks webhook tokens.
	WebhookAuth WebhookAuth
}

// Server is the public HTTP API of one node. It is an http.Handler and safe
// for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	deps   Deps
	router *httprouter.Router
	routes []Route

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// handler is an API handler: it writes a success response or returns an
// error for writeError.
type handler func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error

// New returns the API server over deps.
func New(cfg Config, deps Deps) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger.With("subsystem", "httpapi"),
		deps:   deps,
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
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	}

	s.route(http.MethodGet, "/healthz", s.healthz)
	s.route(http.MethodGet, "/readyz", s.readyz)
	metrics := promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})
	s.handle(http.MethodGet, "/metrics", func(w http.ResponseWriter, req *http.Request, _ httprouter.Params) { metrics.ServeHTTP(w, req) })
	s.registerSpecRoutes()

	s.admin(http.MethodGet, "/admin/cluster", s.clusterInfo)
	s.admin(http.MethodPost, "/admin/accounts", s.createAccount)
	s.admin(http.MethodGet, "/admin/accounts", s.listAccounts)
	s.admin(http.MethodGet, "/admin/accounts/:id", s.getAccount)
	s.admin(http.MethodPatch, "/admin/accounts/:id", s.patchAccount)
	s.admin(http.MethodDelete, "/admin/accounts/:id", s.deleteAccount)
	s.admin(http.MethodPost, "/admin/accounts/:id/api-keys", s.adminCreateKey)

	s.account(http.MethodGet, "/api/keys", false, s.listKeys)
	s.account(http.MethodPost, "/api/keys", false, s.createKey)
	s.account(http.MethodDelete, "/api/keys/:id", false, s.deleteKey)
	s.account(http.MethodGet, "/api/domains", false, s.listDomains)
	s.account(http.MethodPost, "/api/domains", false, s.createDomain)
	s.account(http.MethodGet, "/api/domains/:domain", false, s.getDomain)
	s.account(http.MethodPatch, "/api/domains/:domain", false, s.patchDomain)
	s.account(http.MethodDelete, "/api/domains/:domain", false, s.deleteDomain)
	s.account(http.MethodGet, "/api/domains/:domain/webhook-tokens", false, s.listWebhookTokens)
	s.account(http.MethodPost, "/api/domains/:domain/webhook-tokens", false, s.createWebhookToken)
	s.account(http.MethodDelete, "/api/domains/:domain/webhook-tokens/:id", false, s.deleteWebhookToken)
	if deps.Cache != nil {
		s.registerCacheRoutes()
	}
	return s
}

// ServeHTTP implements http.Handler: the management API. The cache
// surfaces (the serve path) are edge's, in front of it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.router.ServeHTTP(w, r)
}

// HasRoute reports whether the API has a route for r's path under any
// method: the public handler (edge) gives a host it does not know one
// fresh lookup before the API answers 404, but never delays a request
// the API would answer.
func (s *Server) HasRoute(r *http.Request) bool {
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
// error→status map), for the data plane's refusals.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, s.log, err)
}

// route registers h under path with metrics, a request deadline and error
// mapping.
func (s *Server) route(method, path string, h handler) {
	s.handle(method, path, func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		s.observe(path, w, r, func(w http.ResponseWriter, r *http.Request) error { return h(w, r, ps) })
	})
}

// admin registers an operator-only route.
func (s *Server) admin(method, path string, h handler) {
	s.route(method, path, func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		token := bearer(r)
		if token == "" {
			return ErrAdminTokenRequired
		}
		if s.deps.Admin == nil || !s.deps.Admin.Check(token) {
			return ErrAdminTokenInvalid
		}
		return h(w, r, ps)
	})
}

func (s *Server) observe(route string, w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request) error) {
	s.observeWithin(route, s.cfg.RequestTimeout, w, r, h)
}

// observeWithin runs h under a deadline, maps its error and records
// metrics.
func (s *Server) observeWithin(route string, timeout time.Duration, w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request) error) {
	start := time.Now()
	// One read barrier per request: authentication takes it (credentials
	// are always checked against fresh state) and the handler's reads
	// reuse it.
	ctx, cancel := context.WithTimeout(consensus.WithReadScope(r.Context()), timeout)
	defer cancel()
	r = r.WithContext(ctx)
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	if err := h(rec, r); err != nil {
		writeError(rec, r, s.log, err)
	}
	s.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Inc()
	s.latency.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
}

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
