package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/plan"
)

// APIKey returns the account API key r presents: X-Api-Key (any case, so
// also X-API-KEY), X-ResCDN-Key, or Authorization: Bearer; "" if none.
func APIKey(r *http.Request) string {
	for _, h := range []string{"X-Api-Key", "X-ResCDN-Key"} {
		if v := strings.TrimSpace(r.Header.Get(h)); v != "" {
			return v
		}
	}
	return Bearer(r)
}

// Bearer returns the token of r's "Authorization: Bearer" header, or "".
func Bearer(r *http.Request) string {
	v, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(v)
}

// AdminAuth checks the operator's bearer token; *operator.Auth satisfies
// it.
type AdminAuth interface {
	Check(token string) bool
}

// Admin wraps h for the operator only: without a bearer token, or with
// one auth does not accept (or a nil auth), it answers 401.
func Admin(auth AdminAuth, h Handler) Handler {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		token := Bearer(r)
		if token == "" {
			return ErrAdminTokenRequired
		}
		if auth == nil || !auth.Check(token) {
			return ErrAdminTokenInvalid
		}
		return h(w, r, ps)
	}
}

// Keys checks account API keys against fresh state; *apikey.Service
// satisfies it.
type Keys interface {
	Authenticate(ctx context.Context, raw string) (apikey.Principal, error)
}

var _ Keys = (*apikey.Service)(nil)

// KeyAuth authenticates account requests: the key by Keys, the account's
// plan by Plans. Both are required.
type KeyAuth struct {
	Keys  Keys
	Plans plan.Catalog
}

// Caller is an authenticated account request: the key's principal and
// the account's plan.
type Caller struct {
	apikey.Principal
	Plan plan.Plan
}

// AccountHandler handles a request made with a valid account API key.
type AccountHandler func(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c Caller) error

// Access says which plans may use an account route.
type Access int

const (
	// AnyPlan is for the dashboard routes (keys, domains), which work on
	// every plan.
	AnyPlan Access = iota
	// APIPlans is for the programmatic APIs that the seeds reserve for
	// plans with API access; other plans get ErrPlanNoAPI.
	APIPlans
)

// Account wraps h for requests with a valid account API key (see APIKey)
// whose plan has access.
func Account(auth KeyAuth, access Access, h AccountHandler) Handler {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		c, err := auth.Authenticate(r)
		if err != nil {
			return err
		}
		if access == APIPlans && !c.Plan.APIAccess {
			return ErrPlanNoAPI
		}
		return h(w, r, ps, c)
	}
}

// Authenticate returns the caller r's API key stands for: apikey's
// ErrRequired without a key, Keys' error for a bad one, ErrPlanMissing
// for a plan this node lacks.
func (a KeyAuth) Authenticate(r *http.Request) (Caller, error) {
	raw := APIKey(r)
	if raw == "" {
		return Caller{}, apikey.ErrRequired
	}
	p, err := a.Keys.Authenticate(r.Context(), raw)
	if err != nil {
		return Caller{}, err
	}
	pl, err := PlanOf(a.Plans, p.Account)
	if err != nil {
		return Caller{}, err
	}
	return Caller{Principal: p, Plan: pl}, nil
}

// PlanOf returns acct's plan from plans, this node's catalog, or
// ErrPlanMissing.
func PlanOf(plans plan.Catalog, acct account.Account) (plan.Plan, error) {
	pl, err := plans.Lookup(acct.Plan)
	if err != nil {
		return plan.Plan{}, ErrPlanMissing
	}
	return pl, nil
}
