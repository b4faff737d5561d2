package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Tenant routes accept an account API key or the operator's admin token:
// the client sends its API key when it has one, else its admin token.
func (c *Client) session() auth {
	if c.opts.APIKey != "" {
		return authKey
	}
	return authAdmin
}

// TenantCMS names a tenant's content provider and its non-secret
// settings.
type TenantCMS struct {
	Provider string            `json:"provider,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
}

// TenantVersions are a tenant's cache versions; bumping one is a purge.
type TenantVersions struct {
	APICacheVersion   uint64 `json:"apiCacheVersion"`
	AssetCacheVersion uint64 `json:"assetCacheVersion"`
	HTMLCacheVersion  uint64 `json:"htmlCacheVersion"`
}

// TenantAPIConfig is the API proxy's configuration; the token itself is
// never shown, only whether one is set.
type TenantAPIConfig struct {
	APIOrigin      string     `json:"apiOrigin,omitempty"`
	AuthMode       string     `json:"apiAuthMode"`
	AuthParam      string     `json:"apiAuthParam,omitempty"`
	CacheTTL       int        `json:"apiCacheTTL"`
	Preview        bool       `json:"apiPreview"`
	CacheAuthed    bool       `json:"apiCacheAuthorized"`
	TokenSet       bool       `json:"apiTokenSet,omitempty"`
	TokenUpdatedAt *time.Time `json:"apiTokenUpdatedAt,omitempty"`
}

// Tenant is a tenant's configuration (seed 004's "value").
type Tenant struct {
	Slug          string          `json:"slug"`
	CMS           TenantCMS       `json:"cms"`
	CacheTTL      int             `json:"cacheTTL"`
	WebsiteDomain string          `json:"websiteDomain,omitempty"`
	WebsiteOrigin string          `json:"websiteOrigin,omitempty"`
	APIOrigin     string          `json:"apiOrigin,omitempty"`
	API           TenantAPIConfig `json:"api"`
	Prerender     bool            `json:"prerender"`
	Versions      TenantVersions  `json:"versions"`
	CreatedBy     string          `json:"createdBy"`
	CreatedAt     time.Time       `json:"createdAt"`
	UpdatedAt     time.Time       `json:"updatedAt"`
}

// TenantFields are a tenant's optional fields, on create and as a partial
// update; nil ones are left out (on update: stay as they are).
type TenantFields struct {
	CMS           *TenantCMS `json:"cms,omitempty"`
	CacheTTL      *int       `json:"cacheTTL,omitempty"`
	WebsiteDomain *string    `json:"websiteDomain,omitempty"`
	WebsiteOrigin *string    `json:"websiteOrigin,omitempty"`
	APIOrigin     *string    `json:"apiOrigin,omitempty"`
	Prerender     *bool      `json:"prerender,omitempty"`
}

// TenantCreated is a create's answer.
type TenantCreated struct {
	OK        bool   `json:"ok"`
	Key       string `json:"key"`
	ProxyBase string `json:"proxyBase"`
}

// TenantMember is a member: UserID is the account ID.
type TenantMember struct {
	UserID    string    `json:"userId"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// TenantInvite is a pending invite; Token is set only in Invite's answer.
type TenantInvite struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	InvitedBy string    `json:"invitedBy"`
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedAt time.Time `json:"createdAt"`
	Token     string    `json:"token,omitempty"`
	EmailSent bool      `json:"emailSent,omitempty"`
}

// TenantAuditEvent is one audit record.
type TenantAuditEvent struct {
	ID        uint64            `json:"id"`
	Action    string            `json:"action"`
	ActorID   string            `json:"actorId"`
	Target    string            `json:"target,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
}

// TenantHook is a cache-refresh webhook's metadata.
type TenantHook struct {
	ID              string     `json:"id"`
	Provider        string     `json:"provider"`
	RefreshAPI      bool       `json:"refreshApi"`
	RefreshAssets   bool       `json:"refreshAssets"`
	Enabled         bool       `json:"enabled"`
	CreatedAt       time.Time  `json:"createdAt"`
	UpdatedAt       time.Time  `json:"updatedAt"`
	LastTriggeredAt *time.Time `json:"lastTriggeredAt"`
	LastStatus      *string    `json:"lastStatus"`
}

// TenantHookCreated is a create's or regenerate's answer: the secret and
// URL are shown this once.
type TenantHookCreated struct {
	Webhook TenantHook `json:"webhook"`
	Secret  string     `json:"secret"`
	URL     string     `json:"url"`
}

// TenantHookEvent is one receiver call of a webhook.
type TenantHookEvent struct {
	ID                      uint64    `json:"id"`
	Status                  string    `json:"status"`
	ReceivedAt              time.Time `json:"receivedAt"`
	FinishedAt              time.Time `json:"finishedAt"`
	PreviousAPICacheVersion uint64    `json:"previousApiCacheVersion"`
	NextAPICacheVersion     uint64    `json:"nextApiCacheVersion"`
	RefreshType             string    `json:"refreshType"`
	DurationMs              int64     `json:"durationMs"`
	Message                 string    `json:"message"`
	EventType               string    `json:"eventType"`
}

type tenantItem struct {
	Key   string `json:"key"`
	Value Tenant `json:"value"`
}

func tenantPath(slug string) string { return "/api/tenants/" + esc(slug) }

// ListTenants lists the tenants the caller is a member of (every tenant
// for the operator).
func (c *Client) ListTenants(ctx context.Context) ([]Tenant, error) {
	var body struct {
		Tenants []tenantItem `json:"tenants"`
	}
	err := c.call(ctx, request{method: http.MethodGet, path: "/api/tenants", auth: c.session()}, &body)
	out := make([]Tenant, 0, len(body.Tenants))
	for _, it := range body.Tenants {
		out = append(out, it.Value)
	}
	return out, err
}

// CreateTenant creates a tenant the caller owns.
func (c *Client) CreateTenant(ctx context.Context, slug string, cms TenantCMS, f TenantFields) (TenantCreated, error) {
	body := struct {
		Slug string    `json:"slug"`
		CMS  TenantCMS `json:"cms"`
		TenantFields
	}{slug, cms, f}
	body.TenantFields.CMS = nil
	var out TenantCreated
	return out, c.call(ctx, request{method: http.MethodPost, path: "/api/tenants", auth: c.session(), body: body}, &out)
}

// SlugAvailable reports whether slug (normalized in the answer) is free.
func (c *Client) SlugAvailable(ctx context.Context, slug string) (string, bool, error) {
	var out struct {
		Slug      string `json:"slug"`
		Available bool   `json:"available"`
	}
	err := c.call(ctx, request{method: http.MethodGet, path: "/api/tenants/slug-availability?slug=" + url.QueryEscape(slug), auth: c.session()}, &out)
	return out.Slug, out.Available, err
}

// GetTenant reads a tenant.
func (c *Client) GetTenant(ctx context.Context, slug string) (Tenant, error) {
	var out tenantItem
	return out.Value, c.call(ctx, request{method: http.MethodGet, path: tenantPath(slug), auth: c.session()}, &out)
}

// UpdateTenant merges f into the tenant.
func (c *Client) UpdateTenant(ctx context.Context, slug string, f TenantFields) (Tenant, error) {
	var out tenantItem
	return out.Value, c.call(ctx, request{method: http.MethodPut, path: tenantPath(slug), auth: c.session(), body: f}, &out)
}

// DeleteTenant deletes a tenant and everything kept for it.
func (c *Client) DeleteTenant(ctx context.Context, slug string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: tenantPath(slug), auth: c.session()}, nil)
}

// TenantMembers lists members, and pending invites for admins and owners.
func (c *Client) TenantMembers(ctx context.Context, slug string) ([]TenantMember, []TenantInvite, error) {
	var out struct {
		Members []TenantMember `json:"members"`
		Invites []TenantInvite `json:"invites"`
	}
	err := c.call(ctx, request{method: http.MethodGet, path: tenantPath(slug) + "/members", auth: c.session()}, &out)
	return out.Members, out.Invites, err
}

// InviteTenantMember invites email with role (or refreshes its invite);
// the answer's Token is shown this once.
func (c *Client) InviteTenantMember(ctx context.Context, slug, email, role string) (TenantInvite, error) {
	var out TenantInvite
	body := map[string]string{"email": email, "role": role}
	return out, c.call(ctx, request{method: http.MethodPost, path: tenantPath(slug) + "/members/invite", auth: c.session(), body: body}, &out)
}

// AcceptTenantInvite makes the key's account a member; it answers the
// tenant's slug and the role.
func (c *Client) AcceptTenantInvite(ctx context.Context, token string) (slug, role string, err error) {
	var out struct {
		Slug string `json:"slug"`
		Role string `json:"role"`
	}
	err = c.call(ctx, request{method: http.MethodPost, path: "/api/invites/accept", auth: authKey, body: map[string]string{"token": token}}, &out)
	return out.Slug, out.Role, err
}

// RemoveTenantMember removes a member.
func (c *Client) RemoveTenantMember(ctx context.Context, slug, userID string) error {
	return c.call(ctx, request{method: http.MethodPost, path: tenantPath(slug) + "/members/remove", auth: c.session(), body: map[string]string{"userId": userID}}, nil)
}

// RevokeTenantInvite revokes a pending invite.
func (c *Client) RevokeTenantInvite(ctx context.Context, slug string, id int64) error {
	return c.call(ctx, request{method: http.MethodPost, path: tenantPath(slug) + "/members/revoke-invite", auth: c.session(), body: map[string]int64{"inviteId": id}}, nil)
}

// UpdateTenantMemberRole changes a member's role.
func (c *Client) UpdateTenantMemberRole(ctx context.Context, slug, userID, role string) (TenantMember, error) {
	var out TenantMember
	body := map[string]string{"userId": userID, "role": role}
	return out, c.call(ctx, request{method: http.MethodPost, path: tenantPath(slug) + "/members/update-role", auth: c.session(), body: body}, &out)
}

// TenantAudit returns a page of audit events, newest first, with ids
// below beforeID (0: from the newest), and whether older ones remain.
func (c *Client) TenantAudit(ctx context.Context, slug string, limit int, beforeID uint64) ([]TenantAuditEvent, bool, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if beforeID > 0 {
		q.Set("beforeId", strconv.FormatUint(beforeID, 10))
	}
	p := tenantPath(slug) + "/audit-events"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	var out struct {
		Events  []TenantAuditEvent `json:"events"`
		HasMore bool               `json:"hasMore"`
	}
	err := c.call(ctx, request{method: http.MethodGet, path: p, auth: c.session()}, &out)
	return out.Events, out.HasMore, err
}

// RefreshTenantCache bumps the versions typ names: api, assets, html or
// all.
func (c *Client) RefreshTenantCache(ctx context.Context, slug, typ string) (TenantVersions, error) {
	var out struct {
		Versions TenantVersions `json:"versions"`
	}
	err := c.call(ctx, request{method: http.MethodPost, path: tenantPath(slug) + "/refresh-cache", auth: c.session(), body: map[string]string{"type": typ}}, &out)
	return out.Versions, err
}

// SyncTenantEdgeConfig rebuilds the answering node's runtime snapshot of
// the tenant and returns its public origin.
func (c *Client) SyncTenantEdgeConfig(ctx context.Context, slug string) (publicOrigin string, err error) {
	var out struct {
		KV struct {
			PublicOrigin string `json:"publicOrigin"`
		} `json:"kv"`
	}
	err = c.call(ctx, request{method: http.MethodPost, path: tenantPath(slug) + "/edge-config", auth: c.session()}, &out)
	return out.KV.PublicOrigin, err
}

// TenantWebhookSecret returns the tenant webhook's secret, generating one
// if needed; rotate replaces it.
func (c *Client) TenantWebhookSecret(ctx context.Context, slug string, rotate bool) (string, error) {
	m := http.MethodPost
	if rotate {
		m = http.MethodPut
	}
	var out struct {
		Secret string `json:"secret"`
	}
	return out.Secret, c.call(ctx, request{method: m, path: tenantPath(slug) + "/webhook-secret", auth: c.session()}, &out)
}

// SetTenantAPIConfig saves the API proxy configuration.
func (c *Client) SetTenantAPIConfig(ctx context.Context, slug string, cfg TenantAPIConfig) (TenantAPIConfig, error) {
	body := map[string]any{"apiOrigin": cfg.APIOrigin, "apiAuthMode": cfg.AuthMode, "apiAuthParam": cfg.AuthParam,
		"apiCacheTTL": cfg.CacheTTL, "apiPreview": cfg.Preview, "apiCacheAuthorized": cfg.CacheAuthed}
	var out TenantAPIConfig
	return out, c.call(ctx, request{method: http.MethodPut, path: tenantPath(slug) + "/api-config", auth: c.session(), body: body}, &out)
}

// SetTenantAPIToken stores the CMS API token (write-only).
func (c *Client) SetTenantAPIToken(ctx context.Context, slug, token string) error {
	return c.call(ctx, request{method: http.MethodPut, path: tenantPath(slug) + "/api-token", auth: c.session(), body: map[string]string{"token": token}}, nil)
}

// TenantHooks lists a tenant's cache-refresh webhooks.
func (c *Client) TenantHooks(ctx context.Context, slug string) ([]TenantHook, error) {
	var out struct {
		Webhooks []TenantHook `json:"webhooks"`
	}
	return out.Webhooks, c.call(ctx, request{method: http.MethodGet, path: tenantPath(slug) + "/cache-refresh-webhooks", auth: c.session()}, &out)
}

// CreateTenantHook creates a cache-refresh webhook for provider
// (contentful, prismic, storyblok or generic).
func (c *Client) CreateTenantHook(ctx context.Context, slug, provider string, refreshAssets bool) (TenantHookCreated, error) {
	var out TenantHookCreated
	body := map[string]any{"provider": provider, "refreshAssets": refreshAssets}
	return out, c.call(ctx, request{method: http.MethodPost, path: tenantPath(slug) + "/cache-refresh-webhooks", auth: c.session(), body: body}, &out)
}

// RegenerateTenantHook replaces a webhook's secret; the old URL dies.
func (c *Client) RegenerateTenantHook(ctx context.Context, slug, id string) (TenantHookCreated, error) {
	var out TenantHookCreated
	return out, c.call(ctx, request{method: http.MethodPost, path: tenantPath(slug) + "/cache-refresh-webhooks/" + esc(id) + "/regenerate", auth: c.session()}, &out)
}

// DeleteTenantHook deletes a webhook; its events stay.
func (c *Client) DeleteTenantHook(ctx context.Context, slug, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: tenantPath(slug) + "/cache-refresh-webhooks/" + esc(id), auth: c.session()}, nil)
}

// TenantHookEvents returns a webhook's last 50 events, newest first.
func (c *Client) TenantHookEvents(ctx context.Context, slug, id string) ([]TenantHookEvent, error) {
	var out struct {
		Events []TenantHookEvent `json:"events"`
	}
	return out.Events, c.call(ctx, request{method: http.MethodGet, path: tenantPath(slug) + "/cache-refresh-webhooks/" + esc(id) + "/events", auth: c.session()}, &out)
}
