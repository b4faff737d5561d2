package tenants

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/tenant"
)

type secretBody struct {
	Secret string `json:"secret"`
}

// webhookSecret is POST (generate, idempotent) or PUT (rotate).
func (a *API) webhookSecret(rotate bool) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
		s, err := a.deps.Tenants.WebhookSecret(r.Context(), c.actor, ps.ByName("slug"), rotate)
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusOK, secretBody{Secret: s})
		return nil
	}
}

type fired struct {
	OK               bool   `json:"ok"`
	HTMLCacheVersion uint64 `json:"htmlCacheVersion"`
}

// fireWebhook is the tenant's CMS publish hook; the body is ignored.
func (a *API) fireWebhook(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	v, err := a.deps.Tenants.FireWebhook(r.Context(), ps.ByName("slug"), r.URL.Query().Get("secret"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, fired{OK: true, HTMLCacheVersion: v.HTMLCacheVersion})
	return nil
}

func (a *API) apiConfig(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var in tenant.APIConfigInput
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	saved, err := a.deps.Tenants.SetAPIConfig(r.Context(), c.actor, ps.ByName("slug"), in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, saved)
	return nil
}

type tokenBody struct {
	Token string `json:"token"`
}

type tokenSaved struct {
	OK        bool      `json:"ok"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func (a *API) apiToken(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var in tokenBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	at, err := a.deps.Tenants.SetAPIToken(r.Context(), c.actor, ps.ByName("slug"), in.Token)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, tokenSaved{OK: true, UpdatedAt: at})
	return nil
}

type kvReadBack struct {
	Exists       bool   `json:"exists"`
	PublicOrigin string `json:"publicOrigin"`
}

type edgeSynced struct {
	OK      bool            `json:"ok"`
	Summary tenant.Snapshot `json:"summary"`
	KV      kvReadBack      `json:"kv"`
}

func (a *API) edgeConfig(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	snap, ok, err := a.deps.Tenants.EdgeConfig(r.Context(), c.actor, ps.ByName("slug"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, edgeSynced{OK: true, Summary: snap, KV: kvReadBack{Exists: ok, PublicOrigin: snap.PublicOrigin}})
	return nil
}

type hooksBody struct {
	Webhooks []tenant.Hook `json:"webhooks"`
}

func (a *API) listHooks(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	hs, err := a.deps.Tenants.Hooks(r.Context(), c.actor, ps.ByName("slug"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, hooksBody{Webhooks: hs})
	return nil
}

type createHookBody struct {
	Provider      string `json:"provider"`
	RefreshAPI    *bool  `json:"refreshApi"`
	RefreshAssets bool   `json:"refreshAssets"`
}

// hookCreated is create's and regenerate's answer: the URL, with the raw
// secret in it, is shown this once.
type hookCreated struct {
	Webhook tenant.Hook `json:"webhook"`
	Secret  string      `json:"secret"`
	URL     string      `json:"url"`
}

func (a *API) createHook(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var in createHookBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	api := in.RefreshAPI == nil || *in.RefreshAPI
	cr, err := a.deps.Tenants.CreateHook(r.Context(), c.actor, ps.ByName("slug"), in.Provider, api, in.RefreshAssets)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, hookCreated{Webhook: cr.Hook, Secret: cr.Secret, URL: a.receiverURL(cr.Path)})
	return nil
}

func (a *API) regenerateHook(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	cr, err := a.deps.Tenants.RegenerateHook(r.Context(), c.actor, ps.ByName("slug"), ps.ByName("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, hookCreated{Webhook: cr.Hook, Secret: cr.Secret, URL: a.receiverURL(cr.Path)})
	return nil
}

type okBody struct {
	OK bool `json:"ok"`
}

func (a *API) deleteHook(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	if err := a.deps.Tenants.DeleteHook(r.Context(), c.actor, ps.ByName("slug"), ps.ByName("id")); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, okBody{OK: true})
	return nil
}

type hookEventsBody struct {
	Events []tenant.HookEvent `json:"events"`
}

func (a *API) hookEvents(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	evs, err := a.deps.Tenants.HookEvents(r.Context(), c.actor, ps.ByName("slug"), ps.ByName("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, hookEventsBody{Events: evs})
	return nil
}

type receivedBody struct {
	OK        bool             `json:"ok"`
	Refreshed bool             `json:"refreshed"`
	Versions  *tenant.Versions `json:"versions,omitempty"`
}

// receive is the cache-refresh receiver. The body is read with a bound
// (413 past it) before anything else, then only parsed for the
// provider's event type; every auth failure is the same 404.
func (a *API) receive(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	received := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, tenant.MaxReceiverBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return ErrReceiverTooLarge
	}
	if err != nil {
		return tenant.ErrHookNotFound
	}
	id := ps.ByName("id")
	et := tenant.EventType(a.deps.Tenants.HookProvider(id), r.Header.Get("X-Contentful-Topic"), body)
	f, err := a.deps.Tenants.Receive(r.Context(), id, ps.ByName("secret"), et, received)
	if err != nil {
		return err
	}
	out := receivedBody{OK: true, Refreshed: f.Refreshed}
	if f.Refreshed {
		out.Versions = &f.Versions
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
