package httpapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/cachectl"
	"github.com/rendercache/rendercache/crawler"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/render"
)

// Pages is the render cache; *page.Service satisfies it.
type Pages interface {
	Get(ctx context.Context, d domain.Domain, v render.Variant, url string, prio render.Priority) (page.Page, page.Status, error)
}

var _ Pages = (*page.Service)(nil)

var (
	// ErrPrerenderTokenRequired is the prerender-compatible endpoints'
	// 401 without X-Prerender-Token.
	ErrPrerenderTokenRequired = apikey.ErrRequired
	// ErrDomainNotFound answers a page of a host that is not one of the
	// caller's domains.
	ErrDomainNotFound = domain.ErrNotFound
	// ErrBadPageURL refuses a prerender URL that is not an absolute
	// http(s) URL.
	ErrBadPageURL = errkind.New(errkind.Invalid, "url must be an absolute http or https URL, such as https://example.com/page")
)

// prerenderPath matches the prerender-compatible form GET /https://host/path;
// proxies sometimes collapse the double slash, so one or more are accepted.
var prerenderPath = regexp.MustCompile(`^/(https?):/+(.*)$`)

// ServeHTTP implements http.Handler. A request whose Host is a registered
// domain is the serve path (crawlers get renders, everyone else the
// origin), as is the prerender-compatible GET /https://...; everything
// else is the management API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.deps.Pages != nil && s.deps.Site != nil {
		if d, ok := s.site(r.Host); ok {
			s.observeServe("site", w, r, func(w http.ResponseWriter, r *http.Request) error { return s.serveSite(w, r, d) })
			return
		}
		if m := prerenderPath.FindStringSubmatch(r.URL.EscapedPath()); m != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			target := m[1] + "://" + m[2]
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			s.observeServe("prerender", w, r, func(w http.ResponseWriter, r *http.Request) error { return s.prerender(w, r, target) })
			return
		}
	}
	s.router.ServeHTTP(w, r)
}

// observeServe is observe with the serve path's longer deadline: a miss
// waits for a render.
func (s *Server) observeServe(route string, w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request) error) {
	s.observeWithin(route, s.cfg.ServeTimeout, w, r, h)
}

// renderQuery is GET /render?url=..., prerender's other form.
func (s *Server) renderQuery(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	target := r.URL.Query().Get("url")
	if target == "" {
		return ErrBadPageURL
	}
	return s.prerender(w, r, target)
}

// site returns the registered domain that host names, from local state:
// the serve path never waits on raft.
func (s *Server) site(host string) (domain.Domain, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	// Every request passes here, API calls included. Hosts are almost
	// always sent in canonical form already; only others pay for IDNA.
	if !canonicalHost(host) {
		norm, err := origin.NormalizeHost(host)
		if err != nil {
			return domain.Domain{}, false
		}
		host = norm
	}
	d, err := s.deps.Site(host)
	return d, err == nil
}

// canonicalHost reports whether host is already in the form
// origin.NormalizeHost returns (lower-case ASCII letters, digits, dots and
// hyphens, no trailing dot), so that it can be looked up as it is. A host
// that passes but is not a valid name simply is not found.
func canonicalHost(host string) bool {
	if host == "" || host[len(host)-1] == '.' {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// serveSite answers a request for a page of a registered domain.
func (s *Server) serveSite(w http.ResponseWriter, r *http.Request, d domain.Domain) error {
	if !crawler.ShouldRender(r) {
		s.proxyToOrigin(w, r, d)
		return nil
	}
	u, err := page.NormalizeURL(r.URL.EscapedPath(), r.URL.RawQuery)
	if err != nil {
		return err
	}
	return s.servePage(w, r, d, u)
}

// prerender answers the prerender-compatible endpoints: the account key
// in X-Prerender-Token must own the URL's domain, and the page comes from
// that domain's origin, never from the URL's host.
func (s *Server) prerender(w http.ResponseWriter, r *http.Request, target string) error {
	if len(target) > page.MaxURL+256 {
		return page.ErrURLTooLong
	}
	token := strings.TrimSpace(r.Header.Get("X-Prerender-Token"))
	if token == "" {
		return ErrPrerenderTokenRequired
	}
	p, err := s.deps.Keys.Authenticate(r.Context(), token)
	if err != nil {
		return err
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ErrBadPageURL
	}
	host, err := origin.NormalizeHost(u.Hostname())
	if err != nil {
		return ErrBadPageURL
	}
	d, err := s.deps.Site(host)
	if err != nil || d.AccountID != p.Account.ID {
		return ErrDomainNotFound
	}
	norm, err := page.NormalizeURL(u.EscapedPath(), u.RawQuery)
	if err != nil {
		return err
	}
	return s.servePage(w, r, d, norm)
}

// servePage writes the cached (or freshly rendered) page.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, d domain.Domain, pageURL string) error {
	variant := render.Desktop
	if crawler.IsMobile(r.UserAgent()) {
		variant = render.Mobile
	}
	p, status, err := s.deps.Pages.Get(r.Context(), d, variant, pageURL, render.Live)
	if errors.Is(err, cachectl.ErrOverQuota) {
		// Past the monthly quota a miss is not rendered: the crawler gets
		// the origin's page. Hits were served above.
		w.Header().Set("Cache-Status", "rendercache; fwd=bypass; detail=quota")
		w.Header().Set("X-Rendercache-Served-By", s.cfg.NodeName)
		pr := r.Clone(r.Context())
		path, query, _ := strings.Cut(strings.SplitN(pageURL, "#", 2)[0], "?")
		pr.URL.Path, pr.URL.RawPath, pr.URL.RawQuery = path, "", query
		if unescaped, err := url.PathUnescape(path); err == nil {
			pr.URL.Path, pr.URL.RawPath = unescaped, path
		}
		s.proxyToOrigin(w, pr, d)
		return nil
	}
	if err != nil {
		return err
	}
	h := w.Header()
	for k, vs := range p.Header {
		if !passHeader(k) {
			continue
		}
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set("Cache-Status", string(status))
	h.Set("X-Rendercache-Node", p.RenderedBy)
	h.Set("X-Rendercache-Served-By", s.cfg.NodeName)
	h.Set("Last-Modified", p.RenderedAt.UTC().Format(http.TimeFormat))
	h.Set("Vary", "User-Agent")
	h.Set("Content-Length", strconv.Itoa(len(p.Body)))
	w.WriteHeader(p.Status)
	if r.Method != http.MethodHead {
		w.Write(p.Body)
	}
	return nil
}

// blockedHeaders are never replayed from a cached page: connection-level
// headers, and cookies, which belong to one visitor, not to a cache.
var blockedHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Te": true, "Trailer": true,
	"Upgrade": true, "Proxy-Authenticate": true, "Proxy-Connection": true, "Content-Length": true,
	"Set-Cookie": true, "Cache-Status": true, "Date": true, "Content-Encoding": true,
}

func passHeader(k string) bool { return !blockedHeaders[http.CanonicalHeaderKey(k)] }

// siteKey carries the domain to the reverse proxy's Rewrite.
type siteKey struct{}

// newOriginProxy returns the reverse proxy for people's requests: the
// request goes to the domain's origin unchanged, over a transport that
// refuses private addresses unless the operator allowed them (checked on
// the address actually dialled).
func newOriginProxy(policy origin.Policy, onError func(http.ResponseWriter, *http.Request, error)) *httputil.ReverseProxy {
	tr := &http.Transport{
		DialContext:           policy.DialContext(10 * time.Second),
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			d := pr.In.Context().Value(siteKey{}).(domain.Domain)
			target, _ := url.Parse(d.Origin)
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		ErrorHandler: onError,
	}
}

// ErrOriginUnreachable is the 502 body when the origin cannot be reached.
const ErrOriginUnreachable = "the origin could not be reached"

func (s *Server) proxyToOrigin(w http.ResponseWriter, r *http.Request, d domain.Domain) {
	s.originProxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), siteKey{}, d)))
}

func (s *Server) originError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Info("origin request failed", "host", r.Host, "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusBadGateway, map[string]string{"error": ErrOriginUnreachable})
}
