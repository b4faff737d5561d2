package tenants

import (
	"net/http"
	"strconv"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/tenant"
)

// Item is one tenant as GET /api/tenants and GET /api/tenants/{slug}
// show it: the seed's {key, value}.
type Item struct {
	Key   string        `json:"key"`
	Value tenant.Tenant `json:"value"`
}

type listBody struct {
	Total   int    `json:"total"`
	Tenants []Item `json:"tenants"`
}

func (a *API) list(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	var (
		ts  []tenant.Tenant
		err error
	)
	if c.actor.Operator {
		ts, err = a.deps.Tenants.ListAll(r.Context())
	} else {
		ts, err = a.deps.Tenants.List(r.Context(), c.acct.ID)
	}
	if err != nil {
		return err
	}
	out := listBody{Total: len(ts), Tenants: make([]Item, 0, len(ts))}
	for _, t := range ts {
		out.Tenants = append(out.Tenants, Item{Key: t.Key(), Value: t})
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

type createBody struct {
	Slug          string     `json:"slug"`
	CMS           tenant.CMS `json:"cms"`
	CacheTTL      *int       `json:"cacheTTL"`
	WebsiteDomain *string    `json:"websiteDomain"`
	WebsiteOrigin *string    `json:"websiteOrigin"`
	APIOrigin     *string    `json:"apiOrigin"`
	Prerender     *bool      `json:"prerender"`
}

type created struct {
	OK        bool   `json:"ok"`
	Key       string `json:"key"`
	ProxyBase string `json:"proxyBase"`
}

func (a *API) create(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	if c.actor.Operator {
		return ErrOperatorNeedsAccount
	}
	var in createBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	p := tenant.Patch{CacheTTL: in.CacheTTL, WebsiteDomain: in.WebsiteDomain, WebsiteOrigin: in.WebsiteOrigin, APIOrigin: in.APIOrigin, Prerender: in.Prerender}
	t, err := a.deps.Tenants.Create(r.Context(), c.acct, c.plan, in.Slug, in.CMS, p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, created{OK: true, Key: t.Key(), ProxyBase: a.deps.Tenants.ProxyBase(t.Slug)})
	return nil
}

type availability struct {
	Slug      string `json:"slug"`
	Available bool   `json:"available"`
}

func (a *API) availability(w http.ResponseWriter, r *http.Request) error {
	raw := r.URL.Query().Get("slug")
	if raw == "" {
		return ErrSlugRequired
	}
	slug, ok, err := a.deps.Tenants.Available(r.Context(), raw)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, availability{Slug: slug, Available: ok})
	return nil
}

func (a *API) get(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	if ps.ByName("slug") == "slug-availability" {
		return a.availability(w, r)
	}
	if ps.ByName("slug") == "usage" {
		return a.usageAll(w, r, c)
	}
	t, _, err := a.deps.Tenants.Get(r.Context(), c.actor, ps.ByName("slug"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, Item{Key: t.Key(), Value: t})
	return nil
}

func (a *API) update(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var p tenant.Patch
	if err := httpapi.DecodeJSON(w, r, &p); err != nil {
		return err
	}
	t, err := a.deps.Tenants.Update(r.Context(), c.actor, ps.ByName("slug"), p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, Item{Key: t.Key(), Value: t})
	return nil
}

type okKey struct {
	OK  bool   `json:"ok"`
	Key string `json:"key"`
}

func (a *API) delete(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	t, err := a.deps.Tenants.Delete(r.Context(), c.actor, ps.ByName("slug"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, okKey{OK: true, Key: t.Key()})
	return nil
}

type membersBody struct {
	Members []tenant.Member `json:"members"`
	Invites []tenant.Invite `json:"invites"`
}

func (a *API) members(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	ms, invs, err := a.deps.Tenants.Members(r.Context(), c.actor, ps.ByName("slug"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, membersBody{Members: ms, Invites: invs})
	return nil
}

type inviteBody struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Invited is the invite answer: the raw token is in it this once.
type Invited struct {
	tenant.Invite
	Token     string `json:"token"`
	EmailSent bool   `json:"emailSent"`
}

func (a *API) invite(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var in inviteBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	role, err := tenant.ParseRole(in.Role)
	if err != nil {
		return err
	}
	inv, token, err := a.deps.Tenants.Invite(r.Context(), c.actor, ps.ByName("slug"), in.Email, role)
	if err != nil {
		return err
	}
	sent := false
	if a.deps.Mailer != nil {
		// The invite stands whether or not the mail goes out; emailSent
		// says which.
		sent = a.deps.Mailer.SendInvite(r.Context(), inv.Email, ps.ByName("slug"), inv.Role.String(), token) == nil
	}
	httpapi.WriteJSON(w, http.StatusCreated, Invited{Invite: inv, Token: token, EmailSent: sent})
	return nil
}

type acceptBody struct {
	Token string `json:"token"`
}

type accepted struct {
	OK     bool        `json:"ok"`
	Key    string      `json:"key"`
	Slug   string      `json:"slug"`
	UserID string      `json:"userId"`
	Role   tenant.Role `json:"role"`
}

func (a *API) accept(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	if c.actor.Operator {
		return ErrOperatorNeedsAccount
	}
	var in acceptBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := a.deps.Tenants.Accept(r.Context(), c.acct.ID, in.Token)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, accepted{OK: true, Key: res.Key, Slug: res.Slug, UserID: res.Member.UserID, Role: res.Member.Role})
	return nil
}

type userBody struct {
	UserID string `json:"userId"`
	Role   string `json:"role,omitempty"`
}

type removed struct {
	OK     bool   `json:"ok"`
	UserID string `json:"userId"`
}

func (a *API) remove(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var in userBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.UserID == "" {
		return ErrUserID
	}
	if err := a.deps.Tenants.Remove(r.Context(), c.actor, ps.ByName("slug"), in.UserID); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, removed{OK: true, UserID: in.UserID})
	return nil
}

type revokeBody struct {
	InviteID *int64 `json:"inviteId"`
}

type revoked struct {
	OK       bool  `json:"ok"`
	InviteID int64 `json:"inviteId"`
}

func (a *API) revokeInvite(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var in revokeBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.InviteID == nil || *in.InviteID <= 0 {
		return ErrInviteID
	}
	if err := a.deps.Tenants.RevokeInvite(r.Context(), c.actor, ps.ByName("slug"), *in.InviteID); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, revoked{OK: true, InviteID: *in.InviteID})
	return nil
}

type roleUpdated struct {
	UserID    string      `json:"userId"`
	Role      tenant.Role `json:"role"`
	UpdatedAt string      `json:"updatedAt"`
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var in userBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.UserID == "" {
		return ErrUserID
	}
	role, err := tenant.ParseRole(in.Role)
	if err != nil {
		return err
	}
	m, err := a.deps.Tenants.UpdateRole(r.Context(), c.actor, ps.ByName("slug"), in.UserID, role)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, roleUpdated{UserID: m.UserID, Role: m.Role, UpdatedAt: m.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z")})
	return nil
}

type auditBody struct {
	Events  []tenant.Event `json:"events"`
	HasMore bool           `json:"hasMore"`
}

func (a *API) audit(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	q := r.URL.Query()
	limit := tenant.DefaultAuditPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > tenant.MaxAuditPage {
			return ErrBadQuery
		}
		limit = n
	}
	var before uint64
	if s := q.Get("beforeId"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 {
			return ErrBadQuery
		}
		before = n
	}
	evs, more, err := a.deps.Tenants.Audit(r.Context(), c.actor, ps.ByName("slug"), limit, before)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, auditBody{Events: evs, HasMore: more})
	return nil
}

type refreshBody struct {
	Type tenant.RefreshType `json:"type"`
}

type refreshed struct {
	OK       bool            `json:"ok"`
	Versions tenant.Versions `json:"versions"`
}

func (a *API) refresh(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var in refreshBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := a.deps.Tenants.Refresh(r.Context(), c.actor, ps.ByName("slug"), in.Type)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, refreshed{OK: true, Versions: v})
	return nil
}
