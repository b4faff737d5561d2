package cacheapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/ratelimit"
)

// limited is httpapi.Limited with the surface's limiter.
func (a *api) limited(ctx context.Context, key string, rule ratelimit.Rule, do func() error) error {
	return httpapi.Limited(ctx, a.deps.Limiter, key, rule, do)
}

func (a *api) scriptInvalidate(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	if !c.HasRole("script") {
		return ErrScriptRole
	}
	return a.limited(r.Context(), "script/"+c.KeyID, ScriptRule, func() error {
		var req struct {
			Key string `json:"key"`
		}
		if err := httpapi.DecodeJSON(w, r, &req); err != nil {
			return err
		}
		if strings.TrimSpace(req.Key) == "" {
			return ErrKeyRequired
		}
		if err := a.deps.Cache.Invalidate(r.Context(), c.Account.ID, req.Key); err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "success"})
		return nil
	})
}
