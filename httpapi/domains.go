package httpapi

import (
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/errkind"
)

type createDomainRequest struct {
	Domain string `json:"domain"`
	domain.Settings
}

func (s *Server) createDomain(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	var req createDomainRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.Domain == "" {
		return errkind.New(errkind.Invalid, `field "domain" is required`)
	}
	d, err := s.deps.Domains.Create(r.Context(), c.Account, c.Plan, req.Domain, req.Settings)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/domains/"+d.Domain)
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	list, err := s.deps.Domains.List(r.Context(), c.Account.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"domains": list})
	return nil
}

func (s *Server) getDomain(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	d, err := s.deps.Domains.Get(r.Context(), c.Account.ID, ps.ByName("domain"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) patchDomain(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var set domain.Settings
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &set); err != nil {
		return err
	}
	d, err := s.deps.Domains.Update(r.Context(), c.Account.ID, ps.ByName("domain"), set)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) deleteDomain(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	if err := s.deps.Domains.Delete(r.Context(), c.Account.ID, ps.ByName("domain")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type createTokenRequest struct {
	Name string `json:"name"`
}

func (s *Server) createWebhookToken(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var req createTokenRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	d, err := s.deps.Domains.Get(r.Context(), c.Account.ID, ps.ByName("domain"))
	if err != nil {
		return err
	}
	created, err := s.deps.Webhooks.Create(r.Context(), d, c.Plan, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

func (s *Server) listWebhookTokens(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	d, err := s.deps.Domains.Get(r.Context(), c.Account.ID, ps.ByName("domain"))
	if err != nil {
		return err
	}
	list, err := s.deps.Webhooks.List(r.Context(), d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": list})
	return nil
}

func (s *Server) deleteWebhookToken(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	d, err := s.deps.Domains.Get(r.Context(), c.Account.ID, ps.ByName("domain"))
	if err != nil {
		return err
	}
	if err := s.deps.Webhooks.Revoke(r.Context(), d, ps.ByName("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
