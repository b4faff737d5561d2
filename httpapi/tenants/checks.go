package tenants

import (
	"context"
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/tenant"
	"github.com/rendercache/rendercache/tenantcheck"
)

// maxCheckURL bounds website-implementation-check's url.
const maxCheckURL = 2048

var (
	// ErrCheckURL refuses website-implementation-check without a url, or
	// with one over maxCheckURL bytes.
	ErrCheckURL = errkind.New(errkind.Invalid, `field "url" is required: the public website's URL, at most 2048 characters`)
	// ErrNoChecks means the node was started without the checker.
	ErrNoChecks = errkind.New(errkind.Unavailable, "the implementation checks are not configured on this node")
)

// Checks runs the two read-only implementation checks;
// *tenantcheck.Checker is one.
type Checks interface {
	Cachely(ctx context.Context, t tenant.Tenant) tenantcheck.CachelyReport
	Website(ctx context.Context, t tenant.Tenant, rawURL string) tenantcheck.WebsiteReport
}

var _ Checks = (*tenantcheck.Checker)(nil)

// registerChecks adds the checks' routes (any member may run them).
func (a *API) registerChecks(s func(method, path string, h sessionHandler)) {
	s(http.MethodPost, "/api/tenants/:slug/cachely-check", a.cachelyCheck)
	s(http.MethodPost, "/api/tenants/:slug/website-implementation-check", a.websiteCheck)
}

// checked returns the caller's tenant (404 for a non-member) and the
// checker.
func (a *API) checked(r *http.Request, ps httprouter.Params, c caller) (tenant.Tenant, error) {
	t, _, err := a.deps.Tenants.Get(r.Context(), c.actor, ps.ByName("slug"))
	if err != nil {
		return tenant.Tenant{}, err
	}
	if a.deps.Checks == nil {
		return tenant.Tenant{}, ErrNoChecks
	}
	return t, nil
}

func (a *API) cachelyCheck(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	t, err := a.checked(r, ps, c)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, a.deps.Checks.Cachely(r.Context(), t))
	return nil
}

type websiteCheckBody struct {
	URL string `json:"url"`
}

func (a *API) websiteCheck(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	t, err := a.checked(r, ps, c)
	if err != nil {
		return err
	}
	var in websiteCheckBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.URL == "" || len(in.URL) > maxCheckURL {
		return ErrCheckURL
	}
	httpapi.WriteJSON(w, http.StatusOK, a.deps.Checks.Website(r.Context(), t, in.URL))
	return nil
}
