package tenant

import (
	"strings"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
)

// Bounds of what a tenant stores. Everything that reaches raft is bounded.
const (
	// MaxSlugLen is a DNS label's limit.
	MaxSlugLen = 63
	// MaxCMSFields and the two lengths bound the provider fields (space
	// IDs, environments, repository names: never tokens, which go to
	// PUT api-token encrypted).
	MaxCMSFields     = 32
	MaxCMSFieldName  = 64
	MaxCMSFieldValue = 512
	// MaxCacheTTL is a year, in seconds.
	MaxCacheTTL = 365 * 24 * 3600
	// MaxMembers bounds a tenant's members and MaxInvites its pending
	// invites, so that listing a tenant stays cheap.
	MaxMembers = 500
	MaxInvites = 200
	// MaxAuditEvents is how many audit events a tenant keeps; older ones
	// are dropped as new ones are written.
	MaxAuditEvents = 1000
	// InviteTTL is how long an invite's token can be accepted.
	InviteTTL = 7 * 24 * time.Hour
	// OperatorID is the actor the audit log records for the operator's
	// admin token.
	OperatorID = "operator"
)

// Providers are the CMS providers a tenant may name.
var Providers = []string{"contentful", "prismic", "storyblok", "sanity", "strapi", "hygraph", "directus", "webflow", "generic"}

// Reserved are slugs no tenant may take: they name the product's own
// hosts under --tenant-domain.
var Reserved = map[string]bool{
	"www": true, "api": true, "admin": true, "app": true, "dashboard": true, "docs": true,
	"status": true, "mail": true, "smtp": true, "cdn": true, "assets": true, "static": true,
	"edge": true, "proxy": true, "auth": true, "login": true, "billing": true, "support": true,
	"internal": true, "localhost": true, "rendercache": true, "blog": true, "help": true,
	// "usage" and "slug-availability" are routes beside /api/tenants/{slug}.
	"usage": true, "slug-availability": true,
}

var (
	// ErrNotFound means the tenant does not exist or the caller is not a
	// member: the two are indistinguishable to callers.
	ErrNotFound = errkind.New(errkind.NotFound, "tenant not found")
	// ErrMemberNotFound means the account is not a member of the tenant.
	ErrMemberNotFound = errkind.New(errkind.NotFound, "member not found")
	// ErrInviteNotFound means no pending invite has the id or token (it may
	// have been revoked, accepted or have expired).
	ErrInviteNotFound = errkind.New(errkind.NotFound, "invite not found")
	// ErrForbidden means the caller's role is too low for the action.
	ErrForbidden = errkind.New(errkind.Forbidden, "insufficient role for this action")
	// ErrEscalation means the action would act on an equal or higher role,
	// or grant owner without being one.
	ErrEscalation = errkind.New(errkind.Forbidden, "role escalation: you cannot act on a member whose role is equal to or higher than yours, or assign owner unless you are an owner")
	// ErrSelf means a member tried to remove themself or change their own
	// role.
	ErrSelf = errkind.New(errkind.Forbidden, "you cannot remove yourself or change your own role")
	// ErrLastOwner means the action would leave the tenant without an owner.
	ErrLastOwner = errkind.New(errkind.Forbidden, "a tenant must keep at least one owner")
	// ErrTaken means another tenant has the slug.
	ErrTaken = errkind.New(errkind.Conflict, "slug already used")
	// ErrAlreadyMember means the invite's account is a member already.
	ErrAlreadyMember = errkind.New(errkind.Conflict, "already a member of this tenant")
	// ErrTenantLimit is the 403 of a plan whose tenants are used up.
	ErrTenantLimit = errkind.New(errkind.Forbidden, "tenant limit reached for your subscription plan")
	// ErrTooMany means the tenant has MaxMembers members or MaxInvites
	// pending invites.
	ErrTooMany = errkind.New(errkind.Forbidden, "this tenant has too many members or pending invites")
	// ErrBadSlug refuses a slug that is not a DNS label or is reserved.
	ErrBadSlug = errkind.New(errkind.Invalid, "slug must be a DNS label (1 to 63 lowercase letters, digits or '-', not starting or ending with '-') and not a reserved name")
	// ErrBadRole refuses a role that is not viewer, editor, admin or owner.
	ErrBadRole = errkind.New(errkind.Invalid, `role must be "viewer", "editor", "admin" or "owner"`)
	// ErrBadCMS refuses a cms object without a known provider or with
	// fields over the bounds.
	ErrBadCMS = errkind.New(errkind.Invalid, "cms must name a provider (contentful, prismic, storyblok, sanity, strapi, hygraph, directus, webflow or generic) and at most 32 fields: names of letters, digits, '_' or '-' up to 64 bytes, printable values up to 512 bytes")
	// ErrBadTTL refuses a cacheTTL outside 0..MaxCacheTTL seconds.
	ErrBadTTL = errkind.New(errkind.Invalid, "cacheTTL must be 0 to 31536000 seconds")
	// ErrBadDomain refuses a websiteDomain that is not a hostname.
	ErrBadDomain = errkind.New(errkind.Invalid, "websiteDomain must be a hostname such as www.example.com")
	// ErrBadRefresh refuses a refresh type other than api, assets, html or all.
	ErrBadRefresh = errkind.New(errkind.Invalid, `type must be "api", "assets", "html" or "all"`)
	// ErrBadInviteToken refuses an accept without a well-formed token.
	ErrBadInviteToken = errkind.New(errkind.Invalid, "token must be an invite token (inv_...)")
	// ErrBadLimit refuses an audit page size outside 1..MaxAuditPage.
	ErrBadLimit = errkind.New(errkind.Invalid, "limit must be 1 to 200")
	// ErrBadAPIConfig refuses an unknown auth mode, or a header or query
	// mode without a parameter name (letters, digits, '_' or '-', up to 64
	// bytes).
	ErrBadAPIConfig = errkind.New(errkind.Invalid, `apiAuthMode must be "bearer", "header", "query" or "none"; "header" and "query" need apiAuthParam (letters, digits, '_' or '-', up to 64 bytes); apiCacheTTL 0 to 31536000`)
	// ErrInviteEmail means the accepting account's email is not the invite's.
	ErrInviteEmail = errkind.New(errkind.Forbidden, "this invite was sent to another email address")
)

// CMS names the tenant's content provider and its non-secret settings.
type CMS struct {
	Provider string            `json:"provider"`
	Fields   map[string]string `json:"fields,omitempty"`
}

// Versions are part of every cache key of the tenant's objects: bumping
// one is the O(1) purge of that kind.
type Versions struct {
	APICacheVersion   uint64 `json:"apiCacheVersion"`
	AssetCacheVersion uint64 `json:"assetCacheVersion"`
	HTMLCacheVersion  uint64 `json:"htmlCacheVersion"`
}

// Tenant is one tenant's configuration as stored in raft and returned as
// the "value" of GET /api/tenants/{slug}.
type Tenant struct {
	Slug          string    `json:"slug"`
	CMS           CMS       `json:"cms"`
	CacheTTL      int       `json:"cacheTTL"`
	WebsiteDomain string    `json:"websiteDomain,omitempty"`
	WebsiteOrigin string    `json:"websiteOrigin,omitempty"`
	APIOrigin     string    `json:"apiOrigin,omitempty"`
	API           APIConfig `json:"api"`
	// Prerender serves crawlers the render tier's pre-rendered pages of
	// the website (under htmlCacheVersion), instead of the origin's HTML.
	Prerender bool      `json:"prerender"`
	Versions  Versions  `json:"versions"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// API auth modes: how the API proxy sends the CMS token onwards.
const (
	AuthBearer = "bearer" // Authorization: Bearer <token>
	AuthHeader = "header" // <apiAuthParam>: <token>
	AuthQuery  = "query"  // ?<apiAuthParam>=<token>
	AuthNone   = "none"
)

// APIConfig is the API proxy's configuration (PUT api-config), without
// the token (PUT api-token), of which it shows only whether one is set.
type APIConfig struct {
	AuthMode       string     `json:"apiAuthMode"`
	AuthParam      string     `json:"apiAuthParam,omitempty"`
	CacheTTL       int        `json:"apiCacheTTL"`
	Preview        bool       `json:"apiPreview"`
	CacheAuthed    bool       `json:"apiCacheAuthorized"`
	TokenSet       bool       `json:"apiTokenSet"`
	TokenUpdatedAt *time.Time `json:"apiTokenUpdatedAt,omitempty"`
}

// Key is the seed's "tenant:<slug>".
func (t Tenant) Key() string { return "tenant:" + t.Slug }

// Member is one account's membership; UserID is the account ID.
type Member struct {
	UserID    string    `json:"userId"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Invite is a pending invite. The token is stored only as its SHA-256
// (TokenHash, never returned); the raw token is in the invite response
// once.
type Invite struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	TokenHash string    `json:"-"`
	InvitedBy string    `json:"invitedBy"`
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedAt time.Time `json:"createdAt"`
}

// storedInvite is Invite with its hash, as state keeps it.
type storedInvite struct {
	Invite
	TokenHash string `json:"tokenHash"`
}

// NormalizeSlug lowercases slug and checks that it is a DNS label and not
// reserved.
func NormalizeSlug(slug string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(slug))
	if !validLabel(n) || Reserved[n] {
		return "", ErrBadSlug
	}
	return n, nil
}

func validLabel(n string) bool {
	if n == "" || len(n) > MaxSlugLen || n[0] == '-' || n[len(n)-1] == '-' {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validCMS checks provider and field bounds.
func validCMS(c CMS) error {
	known := false
	for _, p := range Providers {
		known = known || p == c.Provider
	}
	if !known || len(c.Fields) > MaxCMSFields {
		return ErrBadCMS
	}
	for k, v := range c.Fields {
		if k == "" || len(k) > MaxCMSFieldName || len(v) > MaxCMSFieldValue || !fieldName(k) || !printable(v) {
			return ErrBadCMS
		}
	}
	return nil
}

func fieldName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
