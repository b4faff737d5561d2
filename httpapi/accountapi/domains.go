package accountapi

import (
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/httpapi"
)

type createDomainRequest struct {
	Domain string `json:"domain"`
	domain.Settings
}

func (a *api) createDomain(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	var req createDomainRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Domain == "" {
		return ErrDomainRequired
	}
	d, err := a.deps.Domains.Create(r.Context(), c.Account, c.Plan, req.Domain, req.Settings)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/domains/"+d.Domain)
	httpapi.WriteJSON(w, http.StatusCreated, d)
	return nil
}

func (a *api) listDomains(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	list, err := a.deps.Domains.List(r.Context(), c.Account.ID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"domains": list})
	return nil
}

func (a *api) getDomain(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
	d, err := a.deps.Domains.Get(r.Context(), c.Account.ID, ps.ByName("domain"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (a *api) patchDomain(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
	var set domain.Settings
	if err := httpapi.DecodeJSON(w, r, &set); err != nil {
		return err
	}
	d, err := a.deps.Domains.Update(r.Context(), c.Account.ID, ps.ByName("domain"), set)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (a *api) deleteDomain(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
	if err := a.deps.Domains.Delete(r.Context(), c.Account.ID, ps.ByName("domain")); err != nil {
		return err
	}
	if a.deps.Settled != nil {
		if err := a.deps.Settled(r.Context()); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type createTokenRequest struct {
	Name string `json:"name"`
}

func (a *api) createWebhookToken(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
	var req createTokenRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	d, err := a.deps.Domains.Get(r.Context(), c.Account.ID, ps.ByName("domain"))
	if err != nil {
		return err
	}
	created, err := a.deps.Webhooks.Create(r.Context(), d, c.Plan, req.Name)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, created)
	return nil
}

func (a *api) listWebhookTokens(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
	d, err := a.deps.Domains.Get(r.Context(), c.Account.ID, ps.ByName("domain"))
	if err != nil {
		return err
	}
	list, err := a.deps.Webhooks.List(r.Context(), d)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"tokens": list})
	return nil
}

func (a *api) deleteWebhookToken(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
	d, err := a.deps.Domains.Get(r.Context(), c.Account.ID, ps.ByName("domain"))
	if err != nil {
		return err
	}
	if err := a.deps.Webhooks.Revoke(r.Context(), d, ps.ByName("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
