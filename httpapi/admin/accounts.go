package admin

import (
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/errkind"
)

var (
	// ErrEmailRequired refuses an account without an email.
	ErrEmailRequired = errkind.New(errkind.Invalid, `field "email" is required`)
	// ErrPlanRequired refuses an account without a plan.
	ErrPlanRequired = errkind.New(errkind.Invalid, `field "plan" is required`)
	// ErrPlanNull refuses a patch that clears the plan.
	ErrPlanNull = errkind.New(errkind.Invalid, `field "plan" cannot be null or empty: an account always has a plan`)
)

type createAccountRequest struct {
	Email string `json:"email"`
	Plan  string `json:"plan"`
}

func (a *api) createAccount(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	var req createAccountRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Email == "" {
		return ErrEmailRequired
	}
	if req.Plan == "" {
		return ErrPlanRequired
	}
	acct, err := a.deps.Accounts.Create(r.Context(), req.Email, req.Plan)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/admin/accounts/"+acct.ID)
	httpapi.WriteJSON(w, http.StatusCreated, acct)
	return nil
}

func (a *api) listAccounts(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	list, err := a.deps.Accounts.List(r.Context())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"accounts": list})
	return nil
}

func (a *api) getAccount(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	acct, err := a.deps.Accounts.Get(r.Context(), ps.ByName("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, acct)
	return nil
}

// patchAccountRequest is a partial update of an account. plan is its only
// changeable field: left out, the account is unchanged; null is refused,
// since an account always has a plan.
type patchAccountRequest struct {
	Plan domain.Field[string] `json:"plan"`
}

func (a *api) patchAccount(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	var req patchAccountRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if !req.Plan.Set {
		return a.getAccount(w, r, ps)
	}
	if req.Plan.Null || req.Plan.Value == "" {
		return ErrPlanNull
	}
	acct, err := a.deps.Accounts.SetPlan(r.Context(), ps.ByName("id"), req.Plan.Value)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, acct)
	return nil
}

func (a *api) deleteAccount(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := a.deps.Accounts.Delete(r.Context(), ps.ByName("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// createKey issues a key for any account, roles included: the operator
// grants what self-service cannot.
func (a *api) createKey(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	var req apikey.Request
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	in, err := req.Input()
	if err != nil {
		return err
	}
	if _, err := a.deps.Accounts.Get(r.Context(), ps.ByName("id")); err != nil {
		return err
	}
	created, err := a.deps.Keys.Create(r.Context(), ps.ByName("id"), in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, created)
	return nil
}
