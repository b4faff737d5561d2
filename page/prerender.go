package page

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/crawler"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/origin"
)

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

// authTimeout bounds the key check of a prerender request (a read
// barrier), as the API bounds its requests.
const authTimeout = 15 * time.Second

// Route implements edge.Router: the prerender-compatible endpoints,
// GET /https://host/path (proxies sometimes collapse the double slash, so
// one or more are accepted) and GET /render?url=..., whatever the host.
// Any other request is refused by its path alone, without allocating.
func (surf *Surface) Route(r *http.Request) (edge.Site, bool, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, false, nil
	}
	p := r.URL.EscapedPath()
	var target string
	switch {
	case p == "/render":
		if target = r.URL.Query().Get("url"); target == "" {
			return nil, true, ErrBadPageURL
		}
	case strings.HasPrefix(p, "/http:/") || strings.HasPrefix(p, "/https:/"):
		scheme, rest, _ := strings.Cut(p[1:], ":")
		target = scheme + "://" + strings.TrimLeft(rest, "/")
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
	default:
		return nil, false, nil
	}
	st, err := surf.prerender(r, target)
	if err != nil {
		return nil, true, err
	}
	return st, true, nil
}

// prerender checks a prerender request: the account key in
// X-Prerender-Token must own the URL's domain, and the page comes from
// that domain's origin, never from the URL's host.
func (surf *Surface) prerender(r *http.Request, target string) (*prerenderSite, error) {
	if len(target) > MaxURL+256 {
		return nil, ErrURLTooLong
	}
	token := strings.TrimSpace(r.Header.Get("X-Prerender-Token"))
	if token == "" {
		return nil, ErrPrerenderTokenRequired
	}
	ctx, cancel := context.WithTimeout(r.Context(), authTimeout)
	defer cancel()
	// The key check reads fresh state, so the domain lookup after it
	// sees a domain created a moment ago anywhere.
	p, err := surf.cfg.Keys.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, ErrBadPageURL
	}
	host, err := origin.NormalizeHost(u.Hostname())
	if err != nil {
		return nil, ErrBadPageURL
	}
	st, ok := surf.view.site(surf, host)
	if !ok || st.d.AccountID != p.Account.ID {
		return nil, ErrDomainNotFound
	}
	norm, err := NormalizeURL(u.EscapedPath(), u.RawQuery)
	if err != nil {
		return nil, err
	}
	return &prerenderSite{site: st, url: norm}, nil
}

// prerenderSite is one prerender request's page: whoever asks, it is
// rendered (the caller proved it owns the domain).
type prerenderSite struct {
	*site
	url string
}

// Key implements edge.Site.
func (ps *prerenderSite) Key(buf []byte, r *http.Request) ([]byte, bool, error) {
	class, _ := crawler.Inspect(r)
	return ps.appendKey(buf, class, ps.url), true, nil
}

// Pass implements edge.Site: only a failed fill gets here.
func (ps *prerenderSite) Pass(w http.ResponseWriter, r *http.Request, err error) error {
	if err == nil {
		return nil
	}
	return ps.surf.bypass(w, r, ps.d, ps.url, err)
}
