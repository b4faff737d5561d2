package httpapi

import (
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/plan"
)

// caller is an authenticated account request.
type caller struct {
	apikey.Principal
	Plan plan.Plan
}

// authedHandler handles a request made with a valid account API key.
type authedHandler func(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error

// ErrPlanNoAPI is the seed's 403 for plans without API access.
var ErrPlanNoAPI = errkind.New(errkind.Forbidden, "API access is available on Agency plans and above")

// apiKeyFrom returns the key a request presents: X-Api-Key (any case, so
// also X-API-KEY), X-ResCDN-Key, or Authorization: Bearer.
func apiKeyFrom(r *http.Request) string {
	for _, h := range []string{"X-Api-Key", "X-ResCDN-Key"} {
		if v := strings.TrimSpace(r.Header.Get(h)); v != "" {
			return v
		}
	}
	return bearer(r)
}

// bearer returns the token of an "Authorization: Bearer" header, or "".
func bearer(r *http.Request) string {
	v, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(v)
}

// account registers a route for account API keys. Dashboard routes (keys,
// domains) work on every plan; needAPI marks the programmatic APIs that
// the seeds reserve for plans with API access.
func (s *Server) account(method, path string, needAPI bool, h authedHandler) {
	s.route(method, path, func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		c, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if needAPI && !c.Plan.APIAccess {
			return ErrPlanNoAPI
		}
		return h(w, r, ps, c)
	})
}

func (s *Server) authenticate(r *http.Request) (caller, error) {
	raw := apiKeyFrom(r)
	if raw == "" {
		return caller{}, apikey.ErrRequired
	}
	p, err := s.deps.Keys.Authenticate(r.Context(), raw)
	if err != nil {
		return caller{}, err
	}
	pl, err := s.planOf(p.Account)
	if err != nil {
		return caller{}, err
	}
	return caller{Principal: p, Plan: pl}, nil
}

// planOf returns the account's plan from this node's catalog. Plans live in
// each node's config, so a name missing here is the operator's to fix.
func (s *Server) planOf(a account.Account) (plan.Plan, error) {
	pl, err := s.deps.Plans.Lookup(a.Plan)
	if err != nil {
		return plan.Plan{}, errkind.New(errkind.Forbidden, "your account's plan is not configured on this cluster; contact the operator")
	}
	return pl, nil
}
