package httpapi

import (
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/internal/errkind"
)

type createKeyRequest struct {
	Name      string     `json:"name"`
	Roles     []string   `json:"roles"`
	ExpiresAt *time.Time `json:"expiresAt"`
	// Mode is "live" (default) or "test" (rk_test_ keys for the asset
	// CDN's test mode).
	Mode string `json:"mode"`
}

func (req createKeyRequest) input() (apikey.NewKeyInput, error) {
	in := apikey.NewKeyInput{Name: req.Name, Roles: req.Roles, ExpiresAt: req.ExpiresAt}
	switch req.Mode {
	case "", "live":
	case "test":
		in.Test = true
	default:
		return in, errkind.New(errkind.Invalid, `field "mode" must be "live" or "test"`)
	}
	return in, nil
}

// ErrRolesOperatorOnly refuses roles on self-service key creation.
var ErrRolesOperatorOnly = errkind.New(errkind.Forbidden, "roles can only be granted by the operator")

func (s *Server) adminCreateKey(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	var req createKeyRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	if _, err := s.deps.Accounts.Get(r.Context(), ps.ByName("id")); err != nil {
		return err
	}
	created, err := s.deps.Keys.Create(r.Context(), ps.ByName("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	keys, err := s.deps.Keys.List(r.Context(), c.Account.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	return nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	var req createKeyRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if len(req.Roles) > 0 {
		return ErrRolesOperatorOnly
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	created, err := s.deps.Keys.Create(r.Context(), c.Account.ID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	if err := s.deps.Keys.Revoke(r.Context(), c.Account.ID, ps.ByName("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
