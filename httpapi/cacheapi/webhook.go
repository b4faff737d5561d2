package cacheapi

import (
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/webhook"
)

func (a *api) webhookRefresh(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	raw := httpapi.Bearer(r)
	if raw == "" {
		return ErrWebhookRequired
	}
	p, err := a.deps.WebhookAuth.Authenticate(r.Context(), raw)
	if err != nil {
		return err
	}
	// Tokens are checked against the plan on every use, not only at
	// creation, so that a downgrade switches them off.
	pl, err := httpapi.PlanOf(a.deps.Plans, p.Account)
	if err != nil {
		return err
	}
	if !pl.WebhookTokens {
		return webhook.ErrPlan
	}
	tok := p.Token
	return a.limited(r.Context(), "webhook/"+tok.Domain, WebhookRule, func() error {
		var req struct {
			URLs []string `json:"urls"`
		}
		if err := httpapi.DecodeJSON(w, r, &req); err != nil {
			return err
		}
		if len(req.URLs) == 0 {
			return ErrURLsRequired
		}
		// Refresh validates each URL, a path or an absolute URL on the
		// token's domain, with page.NormalizeRef, and bounds their number.
		// A webhook refresh always goes through the quality guard: a CMS
		// publishing while the site is broken must not replace good pages.
		d, js, err := a.deps.Cache.Refresh(r.Context(), tok.AccountID, tok.Domain, req.URLs, "webhook", true)
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"message": "Cache refresh queued", "domain": d.Domain, "jobs": jobRefs(js)})
		return nil
	})
}
