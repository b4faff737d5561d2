package tenant

import (
	"context"
	"fmt"

	"github.com/rendercache/rendercache/internal/record"
)

// Snapshot is a tenant's compiled runtime configuration, the seed's
// proxy:{slug} KV blob, as edge-config shows it. It never holds a
// secret.
type Snapshot struct {
	Slug          string   `json:"slug"`
	PublicOrigin  string   `json:"publicOrigin"`
	WebsiteOrigin string   `json:"websiteOrigin,omitempty"`
	APIOrigin     string   `json:"apiOrigin,omitempty"`
	APIAuthMode   string   `json:"apiAuthMode,omitempty"`
	APITokenSet   bool     `json:"apiTokenSet"`
	CacheTTL      int      `json:"cacheTTL"`
	APICacheTTL   int      `json:"apiCacheTTL"`
	Versions      Versions `json:"versions"`
	CMSProvider   string   `json:"cmsProvider"`
	UpdatedAt     string   `json:"updatedAt"`
}

// PublicOrigin is where visitors reach the tenant: its website origin if
// it has one, else https://<slug>.<tenant-domain>; "" with neither.
func (s *Service) PublicOrigin(t Tenant) string {
	if t.WebsiteDomain != "" {
		return "https://" + t.WebsiteDomain
	}
	if s.tenantDomain != "" {
		return "https://" + t.Slug + "." + s.tenantDomain
	}
	return ""
}

// ProxyBase is the seed's proxyBase: the tenant's URL under
// --tenant-domain ("" when none is set).
func (s *Service) ProxyBase(slug string) string {
	if s.tenantDomain == "" {
		return ""
	}
	return "https://" + slug + "." + s.tenantDomain
}

func (s *Service) compile(t Tenant) Snapshot {
	return Snapshot{Slug: t.Slug, PublicOrigin: s.PublicOrigin(t), WebsiteOrigin: t.WebsiteOrigin, APIOrigin: t.APIOrigin,
		APIAuthMode: t.API.AuthMode, APITokenSet: t.API.TokenSet, CacheTTL: t.CacheTTL, APICacheTTL: t.API.CacheTTL,
		Versions: t.Versions, CMSProvider: t.CMS.Provider, UpdatedAt: t.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
}

// EdgeConfig compiles the tenant's snapshot from replicated state
// (editor and above): the seed's idempotent "re-sync", with no state
// change and no purge. Every node's proxy reads replicated state itself,
// so there is nothing to push: the answer shows what it serves.
func (s *Service) EdgeConfig(ctx context.Context, actor Actor, slug string) (summary Snapshot, exists bool, err error) {
	t, _, err := s.Authorize(ctx, actor, slug, ActRefreshCache)
	if err != nil {
		return Snapshot{}, false, err
	}
	return s.compile(t), true, nil
}

// Lookup returns the tenant slug names from r (local state) without
// asking who may see it: for the data plane, which serves a tenant's
// hosts to anyone. Unknown slugs are ErrNotFound.
func Lookup(r record.Reader, slug string) (Tenant, error) {
	t, err := record.Get[Tenant](r, prefixTenant+slug, ErrNotFound)
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant lookup: %w", err)
	}
	return t, nil
}
