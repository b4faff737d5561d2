package node

import (
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/tenant"
)

// prerenderSite is the tenant surface's Config.Prerender: the render
// surface's site of a host, for the crawlers of tenants that enable
// prerender.
func (n *Node) prerenderSite(host string) (edge.Site, bool) {
	if n.render == nil {
		return nil, false
	}
	return n.render.Site(host)
}

// renderDomain is the page service's domain lookup: a registered domain,
// else the host of a tenant that enables prerender (<slug>.<tenant-domain>
// or an active custom domain) as a domain whose origin is the tenant's
// website and whose cache version is its htmlCacheVersion (an HTML
// refresh re-renders), owned by the account that created the tenant
// (whose plan's render quota it counts against). A tenant's host wins
// over a registered domain of the same name, as on the public listener,
// where the tenant surface comes first (so a tenant host's people never
// reach the render surface).
func (n *Node) renderDomain(host string) (domain.Domain, error) {
	var t tenant.Tenant
	ok := false
	if n.sites != nil {
		t, ok = n.sites.Tenant(host)
	}
	if !ok || !t.Prerender || t.WebsiteOrigin == "" {
		return domain.Lookup(n.db.State(), host)
	}
	ttl := t.CacheTTL
	if ttl <= 0 {
		ttl = domain.DefaultCacheTTL
	}
	return domain.Domain{
		Domain:       host,
		AccountID:    t.CreatedBy,
		Origin:       t.WebsiteOrigin,
		CacheTTL:     ttl,
		Render:       domain.DefaultRender(),
		Quality:      domain.DefaultQuality(),
		Recache:      domain.DefaultRecache(),
		CacheVersion: t.Versions.HTMLCacheVersion,
		CreatedAt:    t.CreatedAt,
		UpdatedAt:    t.UpdatedAt,
	}, nil
}
