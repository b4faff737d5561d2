package httpapi

import (
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/errkind"
)

type createAccountRequest struct {
	Email string `json:"email"`
	Plan  string `json:"plan"`
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	var req createAccountRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.Email == "" {
		return errkind.New(errkind.Invalid, `field "email" is required`)
	}
	if req.Plan == "" {
		return errkind.New(errkind.Invalid, `field "plan" is required`)
	}
	a, err := s.deps.Accounts.Create(r.Context(), req.Email, req.Plan)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/admin/accounts/"+a.ID)
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	list, err := s.deps.Accounts.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": list})
	return nil
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	a, err := s.deps.Accounts.Get(r.Context(), ps.ByName("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// patchAccountRequest is a partial update of an account. plan is its only
// changeable field: left out, the account is unchanged; null is refused,
// since an account always has a plan.
type patchAccountRequest struct {
	Plan domain.Field[string] `json:"plan"`
}

func (s *Server) patchAccount(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	var req patchAccountRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if !req.Plan.Set {
		return s.getAccount(w, r, ps)
	}
	if req.Plan.Null || req.Plan.Value == "" {
		return errkind.New(errkind.Invalid, `field "plan" cannot be null or empty: an account always has a plan`)
	}
	a, err := s.deps.Accounts.SetPlan(r.Context(), ps.ByName("id"), req.Plan.Value)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := s.deps.Accounts.Delete(r.Context(), ps.ByName("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
