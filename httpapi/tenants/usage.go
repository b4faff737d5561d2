package tenants

import (
	"context"
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/tenant"
	"github.com/rendercache/rendercache/tenanttraffic"
)

// Traffic reads what tenant hosts served, summed over the cluster;
// *tenanttraffic.Service is one.
type Traffic interface {
	Usage(sc tenanttraffic.Scope, p tenanttraffic.Period) (tenanttraffic.Usage, error)
	Analytics(sc tenanttraffic.Scope, p tenanttraffic.Period) (tenanttraffic.Analytics, error)
	Bandwidth(sc tenanttraffic.Scope, r tenanttraffic.Range) (tenanttraffic.Bandwidth, error)
	Overview(scopes []tenanttraffic.Scope, p tenanttraffic.Period) (tenanttraffic.Overview, error)
	Logs(ctx context.Context, sc tenanttraffic.Scope, q tenanttraffic.LogQuery) (tenanttraffic.LogPage, error)
}

var _ Traffic = (*tenanttraffic.Service)(nil)

// ErrNoTraffic answers the traffic routes on a node without traffic
// accounting (Deps.Traffic nil).
var ErrNoTraffic = errkind.New(errkind.Unavailable, "tenant traffic accounting is not running on this node")

// registerUsage adds the usage, analytics, bandwidth and logs routes.
// GET /api/tenants/usage shares httprouter's /api/tenants/:slug, so get
// dispatches it to usageAll.
func (a *API) registerUsage(s func(method, path string, h sessionHandler)) {
	s(http.MethodGet, "/api/tenants/:slug/usage", overPeriod(a, Traffic.Usage))
	s(http.MethodGet, "/api/tenants/:slug/analytics", overPeriod(a, Traffic.Analytics))
	s(http.MethodGet, "/api/tenants/:slug/bandwidth-daily", a.bandwidth)
	s(http.MethodGet, "/api/tenants/:slug/logs", a.logs)
}

// scope reads the tenant the path names, which the caller must be able
// to read (viewer and up; another account's tenant is 404).
func (a *API) scope(r *http.Request, ps httprouter.Params, c caller) (tenanttraffic.Scope, error) {
	if a.deps.Traffic == nil {
		return tenanttraffic.Scope{}, ErrNoTraffic
	}
	t, _, err := a.deps.Tenants.Get(r.Context(), c.actor, ps.ByName("slug"))
	if err != nil {
		return tenanttraffic.Scope{}, err
	}
	return scopeOf(t), nil
}

func scopeOf(t tenant.Tenant) tenanttraffic.Scope {
	return tenanttraffic.Scope{Slug: t.Slug, Since: t.CreatedAt}
}

// usageAll is GET /api/tenants/usage: every tenant the caller can see
// (the operator: all) over the period.
func (a *API) usageAll(w http.ResponseWriter, r *http.Request, c caller) error {
	if a.deps.Traffic == nil {
		return ErrNoTraffic
	}
	p, err := tenanttraffic.ParsePeriod(r.URL.Query().Get("period"))
	if err != nil {
		return err
	}
	var ts []tenant.Tenant
	if c.actor.Operator {
		ts, err = a.deps.Tenants.ListAll(r.Context())
	} else {
		ts, err = a.deps.Tenants.List(r.Context(), c.acct.ID)
	}
	if err != nil {
		return err
	}
	scopes := make([]tenanttraffic.Scope, 0, len(ts))
	for _, t := range ts {
		scopes = append(scopes, scopeOf(t))
	}
	o, err := a.deps.Traffic.Overview(scopes, p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, o)
	return nil
}

// overPeriod answers a tenant's figures over ?period= (day, week or
// month), as read reads them: usage and analytics.
func overPeriod[T any](a *API, read func(tr Traffic, sc tenanttraffic.Scope, p tenanttraffic.Period) (T, error)) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
		sc, err := a.scope(r, ps, c)
		if err != nil {
			return err
		}
		p, err := tenanttraffic.ParsePeriod(r.URL.Query().Get("period"))
		if err != nil {
			return err
		}
		v, err := read(a.deps.Traffic, sc, p)
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusOK, v)
		return nil
	}
}

func (a *API) bandwidth(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	sc, err := a.scope(r, ps, c)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	rg, err := tenanttraffic.ParseRange(q.Get("from"), q.Get("to"), time.Now())
	if err != nil {
		return err
	}
	b, err := a.deps.Traffic.Bandwidth(sc, rg)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, b)
	return nil
}

func (a *API) logs(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	sc, err := a.scope(r, ps, c)
	if err != nil {
		return err
	}
	q, err := tenanttraffic.ParseLogQuery(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := a.deps.Traffic.Logs(r.Context(), sc, q)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, page)
	return nil
}
