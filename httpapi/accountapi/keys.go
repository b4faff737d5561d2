package accountapi

import (
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/httpapi"
)

func (a *api) listKeys(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	keys, err := a.deps.Keys.List(r.Context(), c.Account.ID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"keys": keys})
	return nil
}

func (a *api) createKey(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	var req apikey.Request
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Roles) > 0 {
		return ErrRolesOperatorOnly
	}
	in, err := req.Input()
	if err != nil {
		return err
	}
	created, err := a.deps.Keys.Create(r.Context(), c.Account.ID, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, created)
	return nil
}

func (a *api) deleteKey(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
	if err := a.deps.Keys.Revoke(r.Context(), c.Account.ID, ps.ByName("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
