package zones

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/ratelimit"
	"github.com/rendercache/rendercache/zone"
)

// Rule is the documented limit: 100 requests per minute per key on /v1.
var Rule = ratelimit.Rule{Limit: 100, Window: time.Minute}

var (
	// ErrAuth is the seed's 401 for a missing or invalid key.
	ErrAuth = errkind.New(errkind.Unauthorized, "authentication required")
	// ErrPlan is the 403 of an account whose plan this node lacks.
	ErrPlan = errkind.New(errkind.Forbidden, "your account's plan is not configured on this cluster; contact the operator")
	// ErrZoneRequired refuses a purge without a zone.
	ErrZoneRequired = errkind.New(errkind.Invalid, `query parameter "zone" is required`)
	// ErrBadSoft refuses a soft flag that is not a boolean.
	ErrBadSoft = errkind.New(errkind.Invalid, `"soft" must be true or false`)
)

// Keys checks account API keys against fresh state; *apikey.Service is
// one.
type Keys interface {
	Authenticate(ctx context.Context, raw string) (apikey.Principal, error)
}

// Zones manages zones; *zone.Service is one.
type Zones interface {
	Create(ctx context.Context, acct account.Account, p plan.Plan, m zone.Mode, name, origin string) (zone.Zone, error)
	Get(ctx context.Context, accountID string, m zone.Mode, id string) (zone.Zone, error)
	List(ctx context.Context, accountID string, m zone.Mode) ([]zone.Zone, error)
	Update(ctx context.Context, accountID string, m zone.Mode, id string, p zone.Patch) (zone.Zone, error)
	Delete(ctx context.Context, accountID string, m zone.Mode, id string) error
	Purge(ctx context.Context, accountID string, m zone.Mode, id string, t zone.Target) (zone.Zone, error)
}

// Confirmer waits until every live node applied every write acknowledged
// so far and says how many did; *cachectl.Service is one.
type Confirmer interface {
	Settle(ctx context.Context) (int, error)
}

// Usage reports an account's zone usage; *zone.Meter is one.
type Usage interface {
	Usage(accountID string, m zone.Mode) (zone.Usage, error)
}

var (
	_ Keys  = (*apikey.Service)(nil)
	_ Zones = (*zone.Service)(nil)
	_ Usage = (*zone.Meter)(nil)
)

// Deps are what the zone API uses. All but Limiter are required.
type Deps struct {
	Keys    Keys
	Zones   Zones
	Confirm Confirmer
	Usage   Usage
	// Limiter enforces Rule cluster-wide; nil: no limit.
	Limiter httpapi.Limiter
	// Plans is the node's plan catalog.
	Plans plan.Catalog
	// CDNDomain is the serving suffix: a zone is <name>.<CDNDomain>.
	CDNDomain string
}

// API is the zone API. Safe for concurrent use.
type API struct{ deps Deps }

// Register adds the /v1 routes to srv (the node's *httpapi.Router).
func Register(srv httpapi.Registrar, deps Deps) *API {
	a := &API{deps: deps}
	srv.Handle(http.MethodGet, "/v1/zones", a.authed(a.list))
	srv.Handle(http.MethodPost, "/v1/zones", a.authed(a.create))
	srv.Handle(http.MethodGet, "/v1/zones/:id", a.authed(a.get))
	srv.Handle(http.MethodPatch, "/v1/zones/:id", a.authed(a.patch))
	srv.Handle(http.MethodDelete, "/v1/zones/:id", a.authed(a.delete))
	srv.Handle(http.MethodGet, "/v1/purge", a.authed(a.purge))
	srv.Handle(http.MethodPost, "/v1/purge", a.authed(a.purge))
	srv.Handle(http.MethodGet, "/v1/usage", a.authed(a.usage))
	return a
}

// caller is an authenticated /v1 request: the key's account, plan and
// mode (from the key's prefix, which the key's hash covers).
type caller struct {
	apikey.Principal
	Plan plan.Plan
	Mode zone.Mode
}

type authedHandler func(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error

// authed checks the key against fresh state, then counts the request
// against the key's limit.
func (a *API) authed(h authedHandler) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		raw := httpapi.APIKey(r)
		if raw == "" {
			return ErrAuth
		}
		p, err := a.deps.Keys.Authenticate(r.Context(), raw)
		if errkind.KindOf(err) == errkind.Unauthorized {
			return ErrAuth
		}
		if err != nil {
			return err
		}
		pl, err := a.deps.Plans.Lookup(p.Account.Plan)
		if err != nil {
			return ErrPlan
		}
		c := caller{Principal: p, Plan: pl, Mode: zone.Live}
		if strings.HasPrefix(raw, apikey.TestPrefix) {
			c.Mode = zone.Test
		}
		return httpapi.Limited(r.Context(), a.deps.Limiter, "v1/"+p.KeyID, Rule, func() error {
			return h(w, r, ps, c)
		})
	}
}
