package accountapi

import (
	"context"
	"net/http"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/webhook"
)

var (
	// ErrRolesOperatorOnly refuses roles on self-service key creation.
	ErrRolesOperatorOnly = errkind.New(errkind.Forbidden, "roles can only be granted by the operator")
	// ErrDomainRequired refuses a domain create without a domain.
	ErrDomainRequired = errkind.New(errkind.Invalid, `field "domain" is required`)
)

// Keys issues, lists, revokes and checks an account's own API keys;
// *apikey.Service satisfies it.
type Keys interface {
	httpapi.Keys
	Create(ctx context.Context, accountID string, in apikey.NewKeyInput) (apikey.Created, error)
	List(ctx context.Context, accountID string) ([]apikey.View, error)
	Revoke(ctx context.Context, accountID, id string) error
}

// Domains manages domains; *domain.Service satisfies it.
type Domains interface {
	Create(ctx context.Context, acct account.Account, p plan.Plan, host string, set domain.Settings) (domain.Domain, error)
	Get(ctx context.Context, accountID, host string) (domain.Domain, error)
	List(ctx context.Context, accountID string) ([]domain.Domain, error)
	Update(ctx context.Context, accountID, host string, set domain.Settings) (domain.Domain, error)
	Delete(ctx context.Context, accountID, host string) error
}

// Webhooks manages webhook tokens; *webhook.Service satisfies it.
type Webhooks interface {
	Create(ctx context.Context, d domain.Domain, p plan.Plan, name string) (webhook.Created, error)
	// List reads local state: d must come from a fresh read
	// (Domains.Get), whose barrier covers the tokens too.
	List(ctx context.Context, d domain.Domain) ([]webhook.View, error)
	Revoke(ctx context.Context, d domain.Domain, id string) error
}

var (
	_ Keys     = (*apikey.Service)(nil)
	_ Domains  = (*domain.Service)(nil)
	_ Webhooks = (*webhook.Service)(nil)
)

// Deps are what the account's API uses; all are required.
type Deps struct {
	Keys     Keys
	Domains  Domains
	Webhooks Webhooks
	// Plans is the node's plan catalog.
	Plans plan.Catalog
	// Settled waits until every live node has applied this node's writes
	// so far (cachectl.Service.Settle): a domain delete answers only
	// after it, so no node serves the deleted domain once it is 204.
	// Nil skips the wait (tests of one node).
	Settled func(ctx context.Context) error
}

// api is the account's API. Safe for concurrent use.
type api struct{ deps Deps }

// Register adds the /api/keys and /api/domains routes to r.
func Register(r httpapi.Registrar, deps Deps) {
	a := &api{deps: deps}
	auth := httpapi.KeyAuth{Keys: deps.Keys, Plans: deps.Plans}
	account := func(method, path string, h httpapi.AccountHandler) {
		r.Handle(method, path, httpapi.Account(auth, httpapi.AnyPlan, h))
	}
	account(http.MethodGet, "/api/keys", a.listKeys)
	account(http.MethodPost, "/api/keys", a.createKey)
	account(http.MethodDelete, "/api/keys/:id", a.deleteKey)
	account(http.MethodGet, "/api/domains", a.listDomains)
	account(http.MethodPost, "/api/domains", a.createDomain)
	account(http.MethodGet, "/api/domains/:domain", a.getDomain)
	account(http.MethodPatch, "/api/domains/:domain", a.patchDomain)
	account(http.MethodDelete, "/api/domains/:domain", a.deleteDomain)
	account(http.MethodGet, "/api/domains/:domain/webhook-tokens", a.listWebhookTokens)
	account(http.MethodPost, "/api/domains/:domain/webhook-tokens", a.createWebhookToken)
	account(http.MethodDelete, "/api/domains/:domain/webhook-tokens/:id", a.deleteWebhookToken)
}
