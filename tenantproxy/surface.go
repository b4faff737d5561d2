package tenantproxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"time"

	"github.com/rendercache/rendercache/cache"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/internal/bounded"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/tenant"
)

// Tokens gives the decrypted CMS API token of a tenant
// (tenant.Service.APIToken). ok is false when none is set.
type Tokens interface {
	APIToken(slug string) (token string, ok bool, err error)
}

// Config wires the tenant surface of one node.
type Config struct {
	// State is the node's local state (tenants and their versions).
	State record.Reader
	// Applied returns State's applied raft index: tenants read stay
	// valid until it moves. Nil: state is read on every request.
	Applied func() uint64
	// TenantDomain is the suffix tenants are served under.
	TenantDomain string
	// Tokens decrypts CMS tokens for the API proxy.
	Tokens Tokens
	// Fresh waits until local state holds every acknowledged write: a
	// key's owner calls it when it does not know a tenant that the
	// asking node knew. Nil: never.
	Fresh func(ctx context.Context) error
	// Ring, Client and Bytes make the node's "api" and "site" groups.
	Ring   *cache.Ring
	Client *http.Client
	Bytes  int64
	// MaxObject is the largest answer that is cached; larger ones are
	// passed through. Default 16 MiB.
	MaxObject int64
	// Policy decides which addresses origin fetches may dial.
	Policy origin.Policy
	// Node is sent as x-cachely-node.
	Node string
	// Prerender returns the render surface's site of a host (the node's
	// page.Surface.Site), for the crawlers of tenants that enable
	// prerender. Nil: crawlers get the website proxy's answers.
	Prerender func(host string) (edge.Site, bool)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock of freshness; default time.Now.
	Now func() time.Time
	// Observer, if set, is told of every answered request on a tenant
	// host (Wrap calls it): per-tenant traffic accounting.
	Observer Observer
}

// Kinds of objects, the first segment of their group keys.
const (
	kindAPI   = "api"
	kindHTML  = "html"
	kindAsset = "asset"
)

// maxPathQuery bounds a request's normalised path and query (GraphQL GETs
// of CMS SDKs carry long queries).
const maxPathQuery = 8192

// apiPrefix is the CMS API proxy's path prefix on a tenant host.
const apiPrefix = "/~api"

// Defaults where neither the tenant nor the origin gives a lifetime.
const (
	defaultAPITTL   = 60 * time.Second
	defaultHTMLTTL  = 5 * time.Minute
	defaultAssetTTL = time.Hour
	// negativeTTL bounds how long a 404 is cached.
	negativeTTL = time.Minute
	// passTTL is how long a node remembers that an object is not cached
	// before it asks the cluster again.
	passTTL = 30 * time.Second
)

var (
	// ErrOrigin is the fill error of an origin that could not be reached
	// or answered 5xx: never cached; a stale copy is served instead when
	// the node has one.
	ErrOrigin = errkind.New(errkind.Unavailable, "the tenant's origin could not be reached")
	// ErrNoAPI refuses /~api/ on a tenant without an apiOrigin.
	ErrNoAPI = errkind.New(errkind.NotFound, "this tenant has no API origin")
	// ErrNoWebsite refuses website paths of a tenant without a
	// websiteOrigin.
	ErrNoWebsite = errkind.New(errkind.NotFound, "this tenant has no website origin")
	// ErrMethod refuses a method other than GET and HEAD on /~api/.
	ErrMethod = errkind.New(errkind.BadMethod, "the API proxy is read-only: GET and HEAD only")
	// ErrToken means the CMS token could not be decrypted.
	ErrToken = errkind.New(errkind.Internal, "the tenant's API token could not be read")
	// errPass is the fill error of an object that is not cached.
	errPass = errkind.New(errkind.Unavailable, "tenant: pass")
	// ErrLongURL refuses a path and query over maxPathQuery bytes: they
	// are part of every key and map entry of the object.
	ErrLongURL = errkind.New(errkind.Invalid, "the path and query must be at most 8192 bytes")
	// errBadKey refuses a group key that this surface did not make.
	errBadKey = errkind.New(errkind.Invalid, "tenant: malformed key")
)

// staleError serves a stale copy where a fill failed.
type staleError struct{ a *edge.Answer }

func (staleError) Error() string { return "tenant: stale copy" }

// Surface serves tenants at <slug>.<TenantDomain>: an edge.Surface.
// Misses fill through the cluster's "api" and "site" groups, so
// concurrent misses of one object make one origin fetch in the whole
// cluster. It is safe for concurrent use.
type Surface struct {
	cfg    Config
	log    *slog.Logger
	api    *cache.Group
	site   *cache.Group
	fetch  *http.Client
	proxy  *httputil.ReverseProxy
	suffix string
	node   []string
	view   *view

	entries *bounded.Map[*entry] // object base key → what this node knows of it
}

// maxEntries bounds what a node remembers of objects; past it the map
// starts over.
const maxEntries = 100_000

// entry is what one node knows of an object it served: the group key it
// was filled under and until when that holds, and the answer, kept for
// stale-if-error.
type entry struct {
	key     string
	expires time.Time
	ttl     time.Duration
	pass    bool
	answer  *edge.Answer
}

var (
	_ edge.Surface = (*Surface)(nil)
	_ edge.Site    = (*site)(nil)
)

// New returns the tenant surface with its "api" and "site" groups (the
// caller serves them to peers with cache.Handler).
func New(cfg Config) *Surface {
	if cfg.MaxObject <= 0 {
		cfg.MaxObject = 16 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Surface{cfg: cfg, log: cfg.Logger.With("subsystem", "tenant-surface"), suffix: "." + cfg.TenantDomain,
		node: []string{cfg.Node}, entries: bounded.New[*entry](maxEntries), view: newView(cfg.State, cfg.Applied)}
	tr := cfg.Policy.Transport(30 * time.Second)
	s.fetch = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s.proxy = newProxy(s, tr)
	s.api = cache.New(cache.Config{Name: "api", Bytes: cfg.Bytes / 2, Fill: s.fill, FillTimeout: time.Minute, Ring: cfg.Ring, Client: cfg.Client})
	s.site = cache.New(cache.Config{Name: "site", Bytes: cfg.Bytes / 2, Fill: s.fill, FillTimeout: time.Minute, Ring: cfg.Ring, Client: cfg.Client})
	return s
}

// Groups returns the surface's "api" and "site" groups, for the peer
// handler.
func (s *Surface) Groups() []*cache.Group { return []*cache.Group{s.api, s.site} }

// Close stops the groups.
func (s *Surface) Close() {
	s.api.Close()
	s.site.Close()
}

// Name implements edge.Surface.
func (*Surface) Name() string { return "tenant" }

// Claims implements edge.Surface: a host one label under the tenant
// domain, other than the reserved names, is a tenant's or none.
func (s *Surface) Claims(host string) bool {
	name, ok := strings.CutSuffix(host, s.suffix)
	return ok && name != "" && !strings.Contains(name, ".") && !tenant.Reserved[name]
}

// Site implements edge.Surface: the tenant that host names, from local
// state: <slug>.<TenantDomain>, or an active custom domain of the
// tenant's, which is served exactly alike. A pending or unknown custom
// domain is no tenant's.
func (s *Surface) Site(host string) (edge.Site, bool) {
	st, ok := s.view.site(s, host)
	if !ok {
		return nil, false
	}
	return st, true
}

// site is one tenant's share of the surface.
type site struct {
	s *Surface
	t tenant.Tenant
	// gen tells this tenant from an earlier one of the same slug (its
	// creation time): it is in every key, so a slug deleted and taken
	// again never serves what the deleted tenant cached.
	gen string
}

// newSite returns t's share of s.
func newSite(s *Surface, t tenant.Tenant) *site { return &site{s: s, t: t, gen: generationOf(t)} }

// generationOf is t's part of its keys beside the slug.
func generationOf(t tenant.Tenant) string { return strconv.FormatInt(t.CreatedAt.UnixMilli(), 36) }

// appendTenant appends <slug>.<generation>, the tenant's part of a key.
func (st *site) appendTenant(b []byte) []byte {
	b = append(b, st.t.Slug...)
	b = append(b, '.')
	return append(b, st.gen...)
}

// object is what a request asks of a tenant: its kind, the version that
// applies, and its path and query (normalised: clean path, sorted query)
// on the origin.
type object struct {
	kind    string
	version uint64
	pq      string
}

// appendBase appends o's base key
// (<kind>/<slug>.<generation>/<version><path?query>), under which a node
// remembers the object, to b.
func (st *site) appendBase(b []byte, o object) []byte {
	b = append(b, o.kind...)
	b = append(b, '/')
	b = st.appendTenant(b)
	b = append(b, '/')
	b = strconv.AppendUint(b, o.version, 10)
	return append(b, o.pq...)
}

// base is o's base key as a string.
func (st *site) base(o object) string { return string(st.appendBase(nil, o)) }

func (st *site) objectOf(r *http.Request) (object, error) {
	raw := r.URL.EscapedPath()
	kind := ""
	if rest, ok := strings.CutPrefix(raw, apiPrefix); ok && (rest == "" || rest[0] == '/') {
		kind, raw = kindAPI, rest
		if raw == "" {
			raw = "/"
		}
	}
	p, err := origin.CleanPath(raw)
	if err != nil {
		return object{}, err
	}
	if kind == "" {
		kind = kindAsset
		if isHTML(p) {
			kind = kindHTML
		}
	}
	pq := p
	if r.URL.RawQuery != "" {
		if q := r.URL.Query().Encode(); q != "" {
			pq += "?" + q
		}
	}
	if len(pq) > maxPathQuery {
		return object{}, ErrLongURL
	}
	v := st.t.Versions
	ver := v.AssetCacheVersion
	switch kind {
	case kindAPI:
		ver = v.APICacheVersion
	case kindHTML:
		ver = v.HTMLCacheVersion
	}
	return object{kind: kind, version: ver, pq: pq}, nil
}

// isHTML reports whether a path names a page rather than an asset: a
// directory, no extension, or .html/.htm.
func isHTML(p string) bool {
	last := p[strings.LastIndexByte(p, '/')+1:]
	dot := strings.LastIndexByte(last, '.')
	if dot < 0 {
		return true
	}
	ext := strings.ToLower(last[dot:])
	return ext == ".html" || ext == ".htm"
}

// preview reports whether r is a preview request as the tenant's
// api-config defines them: with apiPreview on, a request with
// ?preview=true (or 1) or X-Cachely-Preview: true (or 1).
func (st *site) preview(r *http.Request) bool {
	if !st.t.API.Preview {
		return false
	}
	yes := func(v string) bool { return v == "1" || strings.EqualFold(v, "true") }
	return yes(r.Header.Get("X-Cachely-Preview")) || (r.URL.RawQuery != "" && yes(r.URL.Query().Get("preview")))
}

// cached reports whether r of o is answered from the cache at all.
func (st *site) cached(r *http.Request, o object) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if o.kind == kindAPI {
		return st.t.APIOrigin != "" && !st.preview(r) && !st.visitorAuth(r)
	}
	return st.t.WebsiteOrigin != ""
}

// visitorAuth reports whether r is an API request with the visitor's own
// credentials (an Authorization header) that the shared cache must not
// answer: unless the tenant's api-config says apiCacheAuthorized (every
// visitor gets the same answers), such a request is the visitor's own
// and goes to the origin with their credentials instead of the tenant's
// token, uncached, as Stellate and Varnish treat authorised requests.
func (st *site) visitorAuth(r *http.Request) bool {
	return !st.t.API.CacheAuthed && r.Header.Get("Authorization") != ""
}

// ttl is the lifetime a new key of o starts with: the API's from its
// config, a page's or asset's from what this node last learned of it.
func (st *site) ttl(o object, e *entry) time.Duration {
	if o.kind == kindAPI {
		return apiTTL(st.t)
	}
	if e != nil && e.ttl > 0 {
		return e.ttl
	}
	return siteTTL(st.t, o.kind)
}

func apiTTL(t tenant.Tenant) time.Duration {
	switch {
	case t.API.CacheTTL > 0:
		return time.Duration(t.API.CacheTTL) * time.Second
	case t.CacheTTL > 0:
		return time.Duration(t.CacheTTL) * time.Second
	}
	return defaultAPITTL
}

func siteTTL(t tenant.Tenant, kind string) time.Duration {
	switch {
	case t.CacheTTL > 0:
		return time.Duration(t.CacheTTL) * time.Second
	case kind == kindHTML:
		return defaultHTMLTTL
	}
	return defaultAssetTTL
}

// Key implements edge.Site. GET and HEAD of an API path (not a preview)
// or a website path are cached under
// <kind>/<slug>/<version>/<ttl>.<generation><path?query>: the key it was
// filled under while that is fresh, else a new one, so that both expiry
// and a version bump make the next request a miss.
func (st *site) Key(buf []byte, r *http.Request) ([]byte, bool, error) {
	if k, ok := st.renderKey(buf, r); ok {
		return k, true, nil
	}
	o, err := st.objectOf(r)
	if err != nil {
		return buf, false, err
	}
	if !st.cached(r, o) {
		return buf, false, nil
	}
	now := st.s.cfg.Now()
	// The base key goes in buf's spare room, which the key then
	// overwrites: no allocation once buf has grown.
	e := st.s.entryBytes(st.appendBase(buf[len(buf):], o))
	if e != nil && now.Before(e.expires) {
		if e.pass {
			return buf, false, nil
		}
		return append(buf, e.key...), true, nil
	}
	sec := max(int64(st.ttl(o, e)/time.Second), 1)
	buf = append(buf, o.kind...)
	buf = append(buf, '/')
	buf = st.appendTenant(buf)
	buf = append(buf, '/')
	buf = strconv.AppendUint(buf, o.version, 10)
	buf = append(buf, '/')
	buf = strconv.AppendInt(buf, sec, 10)
	buf = append(buf, '.')
	buf = strconv.AppendInt(buf, now.Unix()/sec, 10)
	buf = append(buf, o.pq...)
	return buf, true, nil
}

// Fill implements edge.Site: the object from the cluster's group.
func (st *site) Fill(ctx context.Context, r *http.Request, key string) (*edge.Answer, edge.Outcome, error) {
	if !ownKey(key) {
		return st.fillRendered(ctx, r, key)
	}
	o, err := st.objectOf(r)
	if err != nil {
		return nil, edge.Miss, err
	}
	base := st.base(o)
	prev := st.s.entry(base)
	g := st.s.site
	if o.kind == kindAPI {
		g = st.s.api
	}
	start := st.s.cfg.Now()
	v, err := g.Get(ctx, key)
	var (
		env envelope
		a   *edge.Answer
	)
	if err == nil {
		env, a, err = decodeValue(v)
	}
	if err == nil && env.Pass {
		st.s.remember(base, &entry{key: key, expires: st.s.cfg.Now().Add(passTTL), pass: true})
		return nil, edge.Miss, errPass
	}
	if err != nil {
		// stale-if-error: a copy this node served beats an error.
		if prev != nil && prev.answer != nil {
			return nil, edge.Miss, staleError{prev.answer}
		}
		return nil, edge.Miss, err
	}
	st.s.remember(base, &entry{key: key, expires: env.FilledAt.Add(env.TTL), ttl: env.TTL, answer: a})
	if env.FilledAt.Before(start) {
		return a, edge.Hit, nil
	}
	return a, edge.Miss, nil
}

// Pass implements edge.Site: a stale copy where the fill failed, 405 for
// a write to the API proxy, or the origin's answer streamed uncached.
func (st *site) Pass(w http.ResponseWriter, r *http.Request, err error) error {
	if done, perr := st.passRendered(w, r, err); done {
		return perr
	}
	var se staleError
	if errors.As(err, &se) {
		edge.Serve(w, r, se.a, edge.Hit, st.s.cfg.Now())
		return nil
	}
	if err != nil && !errors.Is(err, errPass) {
		return err
	}
	o, err := st.objectOf(r)
	if err != nil {
		return err
	}
	switch {
	case o.kind == kindAPI && r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		return ErrMethod
	case o.kind == kindAPI && st.t.APIOrigin == "":
		return ErrNoAPI
	case o.kind != kindAPI && st.t.WebsiteOrigin == "":
		return ErrNoWebsite
	}
	p := &passing{t: st.t, o: o}
	switch {
	case o.kind == kindAPI && st.visitorAuth(r):
		p.visitor = true
	case o.kind == kindAPI:
		if p.tok, err = st.s.token(st.t); err != nil {
			return err
		}
	}
	h := w.Header()
	h.Set("Cache-Status", "rendercache; fwd=bypass")
	h.Set("X-Cachely-Version", o.kind+"."+strconv.FormatUint(o.version, 10))
	st.s.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), passKey{}, p)))
	return nil
}

// entry is what this node knows of the object of base key base, or nil.
func (s *Surface) entry(base string) *entry {
	e, _ := s.entries.Get(base)
	return e
}

// entryBytes is entry of a base key in bytes, without copying it.
func (s *Surface) entryBytes(base []byte) *entry {
	e, _ := s.entries.GetBytes(base)
	return e
}

// remember records what this node knows of the object of base key base.
func (s *Surface) remember(base string, e *entry) { s.entries.Put(base, e) }
