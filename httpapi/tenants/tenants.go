package tenants

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/tenant"
)

var (
	// ErrOperatorNeedsAccount refuses the operator where the seed's
	// caller must be an account: creating a tenant (it needs an owner) and
	// accepting an invite.
	ErrOperatorNeedsAccount = errkind.New(errkind.Forbidden, "this route needs an account API key: the operator's token owns no tenants")
	// ErrSlugRequired refuses slug-availability without a slug.
	ErrSlugRequired = errkind.New(errkind.Invalid, `query parameter "slug" is required`)
	// ErrBadQuery refuses a malformed limit or beforeId.
	ErrBadQuery = errkind.New(errkind.Invalid, "limit must be 1 to 200 and beforeId a positive integer")
	// ErrUserID refuses a member route without a userId.
	ErrUserID = errkind.New(errkind.Invalid, `field "userId" is required`)
	// ErrInviteID refuses revoke-invite without a positive inviteId.
	ErrInviteID = errkind.New(errkind.Invalid, `field "inviteId" must be a positive integer`)
	// ErrReceiverTooLarge is the receiver's 413.
	ErrReceiverTooLarge = errkind.New(errkind.TooLarge, "request body must be at most 65536 bytes")
)

// Tenants manages tenants; *tenant.Service is one.
type Tenants interface {
	Create(ctx context.Context, acct account.Account, p plan.Plan, slug string, cms tenant.CMS, fields tenant.Patch) (tenant.Tenant, error)
	Available(ctx context.Context, slug string) (string, bool, error)
	Get(ctx context.Context, actor tenant.Actor, slug string) (tenant.Tenant, tenant.Role, error)
	List(ctx context.Context, accountID string) ([]tenant.Tenant, error)
	ListAll(ctx context.Context) ([]tenant.Tenant, error)
	Update(ctx context.Context, actor tenant.Actor, slug string, p tenant.Patch) (tenant.Tenant, error)
	Delete(ctx context.Context, actor tenant.Actor, slug string) (tenant.Tenant, error)
	Refresh(ctx context.Context, actor tenant.Actor, slug string, t tenant.RefreshType) (tenant.Versions, error)
	Members(ctx context.Context, actor tenant.Actor, slug string) ([]tenant.Member, []tenant.Invite, error)
	Invite(ctx context.Context, actor tenant.Actor, slug, email string, role tenant.Role) (tenant.Invite, string, error)
	RevokeInvite(ctx context.Context, actor tenant.Actor, slug string, id int64) error
	Accept(ctx context.Context, accountID, token string) (tenant.AcceptResult, error)
	Remove(ctx context.Context, actor tenant.Actor, slug, userID string) error
	UpdateRole(ctx context.Context, actor tenant.Actor, slug, userID string, role tenant.Role) (tenant.Member, error)
	Audit(ctx context.Context, actor tenant.Actor, slug string, limit int, beforeID uint64) ([]tenant.Event, bool, error)
	WebhookSecret(ctx context.Context, actor tenant.Actor, slug string, rotate bool) (string, error)
	FireWebhook(ctx context.Context, slug, given string) (tenant.Versions, error)
	SetAPIConfig(ctx context.Context, actor tenant.Actor, slug string, in tenant.APIConfigInput) (tenant.SavedAPIConfig, error)
	SetAPIToken(ctx context.Context, actor tenant.Actor, slug, token string) (time.Time, error)
	EdgeConfig(ctx context.Context, actor tenant.Actor, slug string) (tenant.Snapshot, bool, error)
	CreateHook(ctx context.Context, actor tenant.Actor, slug, provider string, refreshAPI, refreshAssets bool) (tenant.Created, error)
	RegenerateHook(ctx context.Context, actor tenant.Actor, slug, id string) (tenant.Created, error)
	DeleteHook(ctx context.Context, actor tenant.Actor, slug, id string) error
	Hooks(ctx context.Context, actor tenant.Actor, slug string) ([]tenant.Hook, error)
	HookEvents(ctx context.Context, actor tenant.Actor, slug, id string) ([]tenant.HookEvent, error)
	HookProvider(id string) string
	Receive(ctx context.Context, id, raw, eventType string, receivedAt time.Time) (tenant.Fired, error)
	ProxyBase(slug string) string
	Domains(ctx context.Context, actor tenant.Actor, slug string) ([]tenant.Domain, error)
	AddDomain(ctx context.Context, actor tenant.Actor, slug, hostname string) (tenant.Domain, error)
	RemoveDomain(ctx context.Context, actor tenant.Actor, slug, hostname string) error
	VerifyDomain(ctx context.Context, actor tenant.Actor, slug, hostname string) (tenant.Domain, error)
}

// Mailer sends invite emails; nil means no relay is configured, and
// invites answer emailSent false.
type Mailer interface {
	SendInvite(ctx context.Context, to, slug, role, token string) error
}

var _ Tenants = (*tenant.Service)(nil)

// Deps are what the tenants API uses. Mailer is optional.
type Deps struct {
	Keys    httpapi.Keys
	Plans   plan.Catalog
	Admin   httpapi.AdminAuth
	Tenants Tenants
	Mailer  Mailer
	// PublicURL is --public-url, the base of the receiver URLs handed out
	// (no trailing slash).
	PublicURL string
	// Checks runs cachely-check and website-implementation-check; nil
	// answers them 503.
	Checks Checks
	// Traffic reads tenant hosts' usage, analytics and logs; nil leaves
	// those routes out.
	Traffic Traffic
}

// API is the tenants API. Safe for concurrent use.
type API struct{ deps Deps }

// Register adds the tenants routes to srv.
func Register(srv httpapi.Registrar, deps Deps) *API {
	a := &API{deps: deps}
	s := func(method, path string, h sessionHandler) { srv.Handle(method, path, a.session(h)) }
	s(http.MethodGet, "/api/tenants", a.list)
	s(http.MethodPost, "/api/tenants", a.create)
	// httprouter cannot hold /api/tenants/slug-availability beside
	// /api/tenants/:slug; get dispatches it (see the spec's
	// x-rendercache-router-path).
	s(http.MethodGet, "/api/tenants/:slug", a.get)
	s(http.MethodPut, "/api/tenants/:slug", a.update)
	s(http.MethodDelete, "/api/tenants/:slug", a.delete)
	s(http.MethodGet, "/api/tenants/:slug/members", a.members)
	s(http.MethodPost, "/api/tenants/:slug/members/invite", a.invite)
	s(http.MethodPost, "/api/tenants/:slug/members/remove", a.remove)
	s(http.MethodPost, "/api/tenants/:slug/members/revoke-invite", a.revokeInvite)
	s(http.MethodPost, "/api/tenants/:slug/members/update-role", a.updateRole)
	s(http.MethodPost, "/api/invites/accept", a.accept)
	s(http.MethodGet, "/api/tenants/:slug/audit-events", a.audit)
	s(http.MethodPost, "/api/tenants/:slug/refresh-cache", a.refresh)
	s(http.MethodPost, "/api/tenants/:slug/edge-config", a.edgeConfig)
	s(http.MethodPost, "/api/tenants/:slug/webhook-secret", a.webhookSecret(false))
	s(http.MethodPut, "/api/tenants/:slug/webhook-secret", a.webhookSecret(true))
	s(http.MethodPut, "/api/tenants/:slug/api-config", a.apiConfig)
	s(http.MethodPut, "/api/tenants/:slug/api-token", a.apiToken)
	s(http.MethodGet, "/api/tenants/:slug/cache-refresh-webhooks", a.listHooks)
	s(http.MethodPost, "/api/tenants/:slug/cache-refresh-webhooks", a.createHook)
	s(http.MethodDelete, "/api/tenants/:slug/cache-refresh-webhooks/:id", a.deleteHook)
	s(http.MethodGet, "/api/tenants/:slug/cache-refresh-webhooks/:id/events", a.hookEvents)
	s(http.MethodPost, "/api/tenants/:slug/cache-refresh-webhooks/:id/regenerate", a.regenerateHook)
	a.registerChecks(s)
	s(http.MethodGet, "/api/tenants/:slug/domains", a.listDomains)
	s(http.MethodPost, "/api/tenants/:slug/domains", a.addDomain)
	s(http.MethodDelete, "/api/tenants/:slug/domains", a.removeDomain)
	s(http.MethodPost, "/api/tenants/:slug/domains/verify", a.verifyDomain)
	// No session: the secret in the URL is the credential.
	srv.Handle(http.MethodPost, "/api/tenants/:slug/webhook", a.fireWebhook)
	srv.Handle(http.MethodPost, "/api/webhooks/cache-refresh/:id/:secret", a.receive)
	a.registerUsage(s)
	return a
}

// caller is an authenticated tenants request: the operator, or an
// account with its plan.
type caller struct {
	actor tenant.Actor
	acct  account.Account
	plan  plan.Plan
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error

// session accepts the operator's admin token as a bearer token, else an
// account API key checked against fresh state (the seed's Clerk session).
func (a *API) session(h sessionHandler) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		if b := httpapi.Bearer(r); b != "" && a.deps.Admin != nil && a.deps.Admin.Check(b) {
			return h(w, r, ps, caller{actor: tenant.Actor{Operator: true}})
		}
		c, err := httpapi.KeyAuth{Keys: a.deps.Keys, Plans: a.deps.Plans}.Authenticate(r)
		if err != nil {
			return err
		}
		return h(w, r, ps, caller{actor: tenant.Actor{AccountID: c.Account.ID}, acct: c.Account, plan: c.Plan})
	}
}

// receiverURL is the full receiver URL of a webhook path.
func (a *API) receiverURL(path string) string {
	return strings.TrimSuffix(a.deps.PublicURL, "/") + path
}
