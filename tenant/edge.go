package tenant

import (
	"context"
	"fmt"
	"sync"

	"github.com/rendercache/rendercache/internal/record"
)

// Snapshot is a tenant's compiled runtime configuration, the seed's
// proxy:{slug} KV blob: what the tenant proxy (next issue) reads on its
// hot path instead of decoding raft state per request. It never holds a
// secret: the proxy asks APIToken for the CMS token.
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

// edgeStore is this node's snapshots by slug. Safe for concurrent use.
type edgeStore struct {
	mu sync.RWMutex
	m  map[string]Snapshot
}

func newEdgeStore() *edgeStore { return &edgeStore{m: map[string]Snapshot{}} }

func (e *edgeStore) put(s Snapshot) {
	e.mu.Lock()
	e.m[s.Slug] = s
	e.mu.Unlock()
}

func (e *edgeStore) get(slug string) (Snapshot, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, ok := e.m[slug]
	return s, ok
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

// EdgeConfig rebuilds this node's snapshot of the tenant from replicated
// state and reads it back (editor and above): the seed's idempotent
// "re-sync", with no state change and no purge.
func (s *Service) EdgeConfig(ctx context.Context, actor Actor, slug string) (summary Snapshot, exists bool, err error) {
	t, _, err := s.Authorize(ctx, actor, slug, ActRefreshCache)
	if err != nil {
		return Snapshot{}, false, err
	}
	s.edge.put(s.compile(t))
	got, ok := s.edge.get(slug)
	return got, ok, nil
}

// Runtime returns the tenant's snapshot on this node, compiling it from
// local state when it is missing or older than the committed tenant.
func (s *Service) Runtime(slug string) (Snapshot, bool) {
	t, err := record.Get[Tenant](s.state, prefixTenant+slug, ErrNotFound)
	if err != nil {
		return Snapshot{}, false
	}
	snap := s.compile(t)
	if cur, ok := s.edge.get(slug); ok && cur == snap {
		return cur, true
	}
	s.edge.put(snap)
	return snap, true
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
