package tenantproxy

import (
	"context"
	"net/http"
	"strings"

	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/tenant"
)

// Crawlers of a tenant that enables prerender get the render tier's
// pre-rendered pages of its website, as a registered domain's crawlers
// do: the tenant's site hands a crawler's page request to the render
// surface's site of the same host (Config.Prerender), and everything
// else (people, assets, the API proxy) stays the tenant proxy's. The
// node makes the render surface see such a host as a domain whose
// origin is the tenant's websiteOrigin and whose cache version is its
// htmlCacheVersion, so an HTML refresh re-renders too.

// Tenant returns the tenant that host names (<slug>.<tenant-domain> or an
// active custom domain), from local state.
func (s *Surface) Tenant(host string) (tenant.Tenant, bool) {
	st, ok := s.view.site(s, host)
	if !ok {
		return tenant.Tenant{}, false
	}
	return st.t, true
}

// prerendered returns the render surface's site for r's host when the
// tenant serves crawlers pre-rendered pages.
func (st *site) prerendered(r *http.Request) (edge.Site, bool) {
	if !st.t.Prerender || st.t.WebsiteOrigin == "" || st.s.cfg.Prerender == nil {
		return nil, false
	}
	host, ok := edge.CanonicalHost(r.Host)
	if !ok {
		return nil, false
	}
	return st.s.cfg.Prerender(host)
}

// renderKey returns the render surface's key of r when r is a crawler's
// request for a page of a prerendering tenant: the render site answers
// it.
func (st *site) renderKey(buf []byte, r *http.Request) ([]byte, bool) {
	pre, ok := st.prerendered(r)
	if !ok {
		return buf, false
	}
	k, ok, err := pre.Key(buf, r)
	if err != nil || !ok {
		return buf, false
	}
	return k, true
}

// ownKey reports whether a group key is one of the tenant proxy's (its
// kinds), not the render surface's.
func ownKey(key string) bool {
	kind, _, _ := strings.Cut(key, "/")
	return kind == kindAPI || kind == kindHTML || kind == kindAsset
}

// fillRendered fills a render surface key of a prerendering tenant.
func (st *site) fillRendered(ctx context.Context, r *http.Request, key string) (*edge.Answer, edge.Outcome, error) {
	pre, ok := st.prerendered(r)
	if !ok {
		return nil, edge.Miss, errBadKey
	}
	return pre.Fill(ctx, r, key)
}

// passRendered lets the render site answer a crawler's page request whose
// render failed (the origin's page, as for a registered domain); ok is
// false when r is not one.
func (st *site) passRendered(w http.ResponseWriter, r *http.Request, err error) (bool, error) {
	pre, ok := st.prerendered(r)
	if !ok {
		return false, nil
	}
	if _, ok, kerr := pre.Key(nil, r); kerr != nil || !ok {
		return false, nil
	}
	return true, pre.Pass(w, r, err)
}
