package page

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/crawler"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/internal/indexmemo"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/render"
)

// Authenticator checks an account API key; *apikey.Service is one.
type Authenticator interface {
	Authenticate(ctx context.Context, raw string) (apikey.Principal, error)
}

var _ Authenticator = (*apikey.Service)(nil)

// SurfaceConfig wires the render surface.
type SurfaceConfig struct {
	// Applied returns the local state's applied raft index
	// (storage.State.AppliedIndex): what the surface read from state
	// stays valid until it moves.
	Applied func() uint64
	// Keys checks the X-Prerender-Token of the prerender endpoints.
	Keys Authenticator
	// Bypass is the fill error on which a crawler gets the origin's page
	// instead of a render, with Cache-Status fwd=bypass
	// (cachectl.ErrOverQuota: past the monthly quota nothing is
	// rendered). Nil: none.
	Bypass error
	// OriginPolicy decides which addresses the origin proxy may dial.
	OriginPolicy origin.Policy
	// Node is sent as X-Rendercache-Served-By on a bypass.
	Node string
	// Logger defaults to the service's.
	Logger *slog.Logger
}

// Surface is the render surface of the public listener (an edge.Surface
// and edge.Router): a registered domain's host serves crawlers its
// rendered pages and passes people through to its origin, and the
// prerender-compatible endpoints serve any of an account's pages. It is
// safe for concurrent use.
type Surface struct {
	pages    *Service
	cfg      SurfaceConfig
	log      *slog.Logger
	view     view
	proxy    *httputil.ReverseProxy
	servedBy []string
}

var (
	_ edge.Surface = (*Surface)(nil)
	_ edge.Router  = (*Surface)(nil)
	_ edge.Site    = (*site)(nil)
	_ edge.Site    = (*prerenderSite)(nil)
)

// NewSurface returns the render surface over the page service s.
func NewSurface(s *Service, cfg SurfaceConfig) *Surface {
	if cfg.Logger == nil {
		cfg.Logger = s.cfg.Logger
	}
	surf := &Surface{pages: s, cfg: cfg, log: cfg.Logger.With("subsystem", "page-surface"), servedBy: []string{cfg.Node}}
	surf.view = view{lookup: s.cfg.Domain, sites: indexmemo.New[string, *site](cfg.Applied, maxViewHosts)}
	surf.proxy = newOriginProxy(cfg.OriginPolicy, surf.originError)
	return surf
}

// Name implements edge.Surface.
func (*Surface) Name() string { return "page" }

// Site implements edge.Surface: host's registered domain, from local
// state (remembered until the state changes).
func (surf *Surface) Site(host string) (edge.Site, bool) {
	st, ok := surf.view.site(surf, host)
	if !ok {
		return nil, false
	}
	return st, true
}

// Claims implements edge.Surface. Registered domains are arbitrary
// names: no host is the render surface's by its name alone.
func (*Surface) Claims(string) bool { return false }

// Key implements edge.Site: a crawler's GET or HEAD of a page (not an
// asset) is cached under the page's key; everything else passes to the
// origin.
func (st *site) Key(buf []byte, r *http.Request) ([]byte, bool, error) {
	class, ok := crawler.Inspect(r)
	if !ok {
		return buf, false, nil
	}
	u, err := pageURL(r.URL.EscapedPath(), r.URL.RawQuery)
	if err != nil {
		return buf, false, err
	}
	return st.appendKey(buf, class, u), true, nil
}

// appendKey appends the group key of url (NormalizeURL's form) for a
// crawler of class c.
func (st *site) appendKey(buf []byte, c crawler.Class, url string) []byte {
	variant := render.Desktop
	if c&crawler.Mobile != 0 {
		variant = render.Mobile
	}
	gen := Generation(st.ttl, st.surf.pages.cfg.Now())
	return AppendGroupKey(buf, st.d.Domain, st.version(PathOf(url)), variant, url, gen)
}

// Fill implements edge.Site: the cluster's cache, or a render on the
// key's owner.
func (st *site) Fill(ctx context.Context, _ *http.Request, key string) (*edge.Answer, edge.Outcome, error) {
	return st.surf.pages.Fetch(ctx, key, render.Live)
}

// Pass implements edge.Site: people get the origin's page; a crawler
// whose render is refused over the quota gets it too, marked as a
// bypass.
func (st *site) Pass(w http.ResponseWriter, r *http.Request, err error) error {
	if err == nil {
		st.surf.toOrigin(w, r, st.d)
		return nil
	}
	u, uerr := pageURL(r.URL.EscapedPath(), r.URL.RawQuery)
	if uerr != nil {
		return err
	}
	return st.surf.bypass(w, r, st.d, u, err)
}

// bypass answers a crawler's request for pageURL from the origin when
// err is the configured Bypass error, and returns err otherwise.
func (surf *Surface) bypass(w http.ResponseWriter, r *http.Request, d domain.Domain, pageURL string, err error) error {
	if surf.cfg.Bypass == nil || !errors.Is(err, surf.cfg.Bypass) {
		return err
	}
	h := w.Header()
	h.Set("Cache-Status", "rendercache; fwd=bypass; detail=quota")
	h["X-Rendercache-Served-By"] = surf.servedBy
	pr := r.Clone(r.Context())
	path, query, _ := strings.Cut(strings.SplitN(pageURL, "#", 2)[0], "?")
	pr.URL.Path, pr.URL.RawPath, pr.URL.RawQuery = path, "", query
	if unescaped, err := url.PathUnescape(path); err == nil {
		pr.URL.Path, pr.URL.RawPath = unescaped, path
	}
	surf.toOrigin(w, pr, d)
	return nil
}

// pageURL is NormalizeURL with a fast path for what crawlers send most:
// a path already in canonical form and no query, which is its own
// normal form and costs no allocation.
func pageURL(escapedPath, rawQuery string) (string, error) {
	if rawQuery == "" && canonicalPath(escapedPath) {
		return escapedPath, nil
	}
	return NormalizeURL(escapedPath, rawQuery)
}

// canonicalPath reports whether p is certainly its own CleanPath: it
// starts with "/", is at most MaxPath bytes, holds only letters, digits
// and "-._~/" (nothing to escape or unescape), and has no dot segment.
// False only means "ask CleanPath".
func canonicalPath(p string) bool {
	if p == "" || p[0] != '/' || len(p) > MaxPath {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '~', c == '/':
		case c == '.':
			// A segment of "." or ".." is a dot segment.
			if p[i-1] == '/' && (i+1 == len(p) || p[i+1] == '/' || p[i+1] == '.' && (i+2 == len(p) || p[i+2] == '/')) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
