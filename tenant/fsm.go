package tenant

import (
	"errors"
	"fmt"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/storage"
)

// State keys.
const (
	prefixTenant      = "tenant/"              // tenant/<slug> → Tenant
	prefixMember      = "tenant-member/"       // tenant-member/<slug>/<account> → Member
	prefixAccount     = "tenant-acct/"         // tenant-acct/<account>/<slug> → ""
	prefixCreator     = "tenant-creator/"      // tenant-creator/<account>/<slug> → "" (the plan count)
	prefixInvite      = "tenant-invite/"       // tenant-invite/<slug>/<%016d id> → storedInvite
	prefixInviteEmail = "tenant-invite-email/" // tenant-invite-email/<slug>/<email> → id
	prefixInviteToken = "tenant-invite-token/" // tenant-invite-token/<sha256> → inviteRef
	keyInviteSeq      = "tenant-seq/invite"
)

// Commands. Each carries everything Apply needs (times, token hashes),
// chosen before the proposal, so that Apply is deterministic. Every one
// that acts on a tenant carries its Actor, and Apply authorizes it
// against committed state.
const (
	cmdCreate        = "tenant.create"
	cmdPatch         = "tenant.patch"
	cmdDelete        = "tenant.delete"
	cmdRefresh       = "tenant.refresh"
	cmdInvite        = "tenant.invite"
	cmdRevokeInvite  = "tenant.revoke-invite"
	cmdAccept        = "tenant.accept"
	cmdRemove        = "tenant.remove"
	cmdUpdateRole    = "tenant.update-role"
	cmdWebhookSecret = "tenant.webhook-secret"
	cmdWebhookFire   = "tenant.webhook-fire"
	cmdAPIToken      = "tenant.api-token"
	cmdAPIConfig     = "tenant.api-config"
	cmdHookCreate    = "tenant.hook-create"
	cmdHookRegen     = "tenant.hook-regenerate"
	cmdHookDelete    = "tenant.hook-delete"
	cmdHookFire      = "tenant.hook-fire"
)

var (
	// errNoSeq marks a counter never bumped (read as 0).
	errNoSeq = errors.New("tenant: no counter")
	// errStop ends a scan early.
	errStop = errors.New("tenant: stop scan")
)

// Actor is who asks: an account, or the operator's admin token.
type Actor struct {
	AccountID string `json:"accountId,omitempty"`
	Operator  bool   `json:"operator,omitempty"`
}

func (a Actor) id() string {
	if a.Operator {
		return OperatorID
	}
	return a.AccountID
}

// Register installs the tenant commands in fsm.
func Register(fsm *consensus.FSM) {
	fsm.Register(cmdCreate, applyCreate)
	fsm.Register(cmdPatch, applyPatch)
	fsm.Register(cmdDelete, applyDelete)
	fsm.Register(cmdRefresh, applyRefresh)
	fsm.Register(cmdInvite, applyInvite)
	fsm.Register(cmdRevokeInvite, applyRevokeInvite)
	fsm.Register(cmdAccept, applyAccept)
	fsm.Register(cmdRemove, applyRemove)
	fsm.Register(cmdUpdateRole, applyUpdateRole)
	fsm.Register(cmdWebhookSecret, applyWebhookSecret)
	fsm.Register(cmdWebhookFire, applyWebhookFire)
	fsm.Register(cmdAPIToken, applyAPIToken)
	fsm.Register(cmdAPIConfig, applyAPIConfig)
	fsm.Register(cmdHookCreate, applyHookCreate)
	fsm.Register(cmdHookRegen, applyHookRegen)
	fsm.Register(cmdHookDelete, applyHookDelete)
	fsm.Register(cmdHookFire, applyHookFire)
	registerDomains(fsm)
}

func memberPrefix(slug string) string { return prefixMember + slug + "/" }
func invitePrefix(slug string) string { return prefixInvite + slug + "/" }
func inviteKey(slug string, id int64) string {
	return fmt.Sprintf("%s%016d", invitePrefix(slug), id)
}

// roleOf returns the caller role of actor in slug: Operator for the
// operator, NoRole for a non-member.
func roleOf(r record.Reader, slug string, actor Actor) (Role, error) {
	if actor.Operator {
		return Operator, nil
	}
	m, err := record.Get[Member](r, memberPrefix(slug)+actor.AccountID, ErrMemberNotFound)
	if errors.Is(err, ErrMemberNotFound) {
		return NoRole, nil
	}
	return m.Role, err
}

// authorize returns the tenant and the actor's role if the actor may take
// action a: a non-member sees ErrNotFound whether or not the tenant
// exists, a member whose role is too low ErrForbidden.
func authorize(r record.Reader, slug string, actor Actor, a Action) (Tenant, Role, error) {
	if !validLabel(slug) {
		return Tenant{}, NoRole, ErrNotFound
	}
	t, err := record.Get[Tenant](r, prefixTenant+slug, ErrNotFound)
	if err != nil {
		return Tenant{}, NoRole, err
	}
	role, err := roleOf(r, slug, actor)
	if err != nil {
		return Tenant{}, NoRole, err
	}
	if role == NoRole {
		return Tenant{}, NoRole, ErrNotFound
	}
	return t, role, Allow(role, a)
}

// owners counts slug's owners.
func owners(r record.Reader, slug string) (int, error) {
	ms, err := record.List[Member](r, memberPrefix(slug))
	n := 0
	for _, m := range ms {
		if m.Role == Owner {
			n++
		}
	}
	return n, err
}

func putMember(tx *storage.Tx, slug string, m Member) error {
	if err := record.Put(tx, memberPrefix(slug)+m.UserID, m); err != nil {
		return err
	}
	return tx.Set([]byte(prefixAccount+m.UserID+"/"+slug), nil)
}

func deleteMember(tx *storage.Tx, slug, userID string) error {
	if err := tx.Delete([]byte(memberPrefix(slug) + userID)); err != nil {
		return err
	}
	return tx.Delete([]byte(prefixAccount + userID + "/" + slug))
}

type createRequest struct {
	Tenant  Tenant `json:"tenant"`
	Allowed int    `json:"allowed"`
}

func applyCreate(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req createRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t := req.Tenant
	if _, err := account.Lookup(tx, t.CreatedBy); err != nil {
		return nil, err
	}
	current, err := record.Count(tx, prefixCreator+t.CreatedBy+"/")
	if err != nil {
		return nil, err
	}
	if !plan.Allows(req.Allowed, current) {
		return nil, ErrTenantLimit.With(map[string]any{"current": current, "allowed": req.Allowed})
	}
	if taken, err := record.Exists(tx, prefixTenant+t.Slug); err != nil {
		return nil, err
	} else if taken {
		return nil, ErrTaken
	}
	if err := record.Put(tx, prefixTenant+t.Slug, t); err != nil {
		return nil, err
	}
	if err := tx.Set([]byte(prefixCreator+t.CreatedBy+"/"+t.Slug), nil); err != nil {
		return nil, err
	}
	if err := putMember(tx, t.Slug, Member{UserID: t.CreatedBy, Role: Owner, CreatedAt: t.CreatedAt, UpdatedAt: t.CreatedAt}); err != nil {
		return nil, err
	}
	return t, audit(tx, t.Slug, "tenant.create", Actor{AccountID: t.CreatedBy}, t.Key(), nil, t.CreatedAt)
}

// Patch is a partial update: nil fields stay as they are, and the CMS
// fields merge key by key (an empty value removes a key).
type Patch struct {
	CMS           *CMS    `json:"cms,omitempty"`
	CacheTTL      *int    `json:"cacheTTL,omitempty"`
	WebsiteDomain *string `json:"websiteDomain,omitempty"`
	WebsiteOrigin *string `json:"websiteOrigin,omitempty"`
	APIOrigin     *string `json:"apiOrigin,omitempty"`
	Prerender     *bool   `json:"prerender,omitempty"`
}

type patchRequest struct {
	Actor Actor     `json:"actor"`
	Slug  string    `json:"slug"`
	Patch Patch     `json:"patch"`
	At    time.Time `json:"at"`
}

func applyPatch(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req patchRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, _, err := authorize(tx, req.Slug, req.Actor, ActConfigure)
	if err != nil {
		return nil, err
	}
	changed := merge(&t, req.Patch)
	if len(changed) == 0 {
		return t, nil
	}
	if err := validCMS(t.CMS); err != nil {
		return nil, err
	}
	t.UpdatedAt = req.At
	if err := record.Put(tx, prefixTenant+t.Slug, t); err != nil {
		return nil, err
	}
	return t, audit(tx, t.Slug, "tenant.update", req.Actor, t.Key(), changed, req.At)
}

// merge applies p to t and names the changed fields (values are
// configuration, never secrets, so the audit log may show them).
func merge(t *Tenant, p Patch) map[string]string {
	changed := map[string]string{}
	if p.CMS != nil {
		if p.CMS.Provider != "" && p.CMS.Provider != t.CMS.Provider {
			t.CMS.Provider = p.CMS.Provider
			changed["cms.provider"] = p.CMS.Provider
		}
		for k, v := range p.CMS.Fields {
			old, had := t.CMS.Fields[k]
			switch {
			case v == "" && had:
				delete(t.CMS.Fields, k)
			case v != "" && old != v:
				if t.CMS.Fields == nil {
					t.CMS.Fields = map[string]string{}
				}
				t.CMS.Fields[k] = v
			default:
				continue
			}
			changed["cms.fields."+k] = v
		}
	}
	set := func(name string, dst *string, v *string) {
		if v != nil && *v != *dst {
			*dst = *v
			changed[name] = *v
		}
	}
	if p.CacheTTL != nil && *p.CacheTTL != t.CacheTTL {
		t.CacheTTL = *p.CacheTTL
		changed["cacheTTL"] = fmt.Sprint(*p.CacheTTL)
	}
	set("websiteDomain", &t.WebsiteDomain, p.WebsiteDomain)
	set("websiteOrigin", &t.WebsiteOrigin, p.WebsiteOrigin)
	set("apiOrigin", &t.APIOrigin, p.APIOrigin)
	if p.Prerender != nil && *p.Prerender != t.Prerender {
		t.Prerender = *p.Prerender
		changed["prerender"] = fmt.Sprint(*p.Prerender)
	}
	return changed
}

type slugRequest struct {
	Actor Actor     `json:"actor"`
	Slug  string    `json:"slug"`
	At    time.Time `json:"at"`
}

func applyDelete(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req slugRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, _, err := authorize(tx, req.Slug, req.Actor, ActDelete)
	if err != nil {
		return nil, err
	}
	return t, deleteTenant(tx, t)
}

// deleteTenant removes the tenant with its members, invites and audit log.
func deleteTenant(tx *storage.Tx, t Tenant) error {
	ms, err := record.List[Member](tx, memberPrefix(t.Slug))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := deleteMember(tx, t.Slug, m.UserID); err != nil {
			return err
		}
	}
	invs, err := record.List[storedInvite](tx, invitePrefix(t.Slug))
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if err := tx.Delete([]byte(prefixInviteToken + inv.TokenHash)); err != nil {
			return err
		}
	}
	for _, p := range []string{invitePrefix(t.Slug), prefixInviteEmail + t.Slug + "/", auditPrefix(t.Slug)} {
		if err := record.DeletePrefix(tx, p); err != nil {
			return err
		}
	}
	for _, h := range onDelete {
		if err := h(tx, t.Slug); err != nil {
			return err
		}
	}
	if err := tx.Delete([]byte(prefixCreator + t.CreatedBy + "/" + t.Slug)); err != nil {
		return err
	}
	return tx.Delete([]byte(prefixTenant + t.Slug))
}

// onDelete are what other files of this package keep per tenant (secrets,
// webhooks), removed with it.
var onDelete []func(tx *storage.Tx, slug string) error

// ForAccount is the account.Cascade that takes a deleted account out of
// every tenant: its memberships go, and a tenant it was the last owner of
// is deleted, since nobody could administer it any more.
func ForAccount(tx *storage.Tx, accountID string) error {
	slugs, err := record.Keys(tx, prefixAccount+accountID+"/")
	if err != nil {
		return err
	}
	for _, slug := range slugs {
		m, err := record.Get[Member](tx, memberPrefix(slug)+accountID, ErrMemberNotFound)
		if err != nil {
			return err
		}
		n, err := owners(tx, slug)
		if err != nil {
			return err
		}
		if m.Role == Owner && n <= 1 {
			t, err := record.Get[Tenant](tx, prefixTenant+slug, ErrNotFound)
			if err != nil {
				return err
			}
			if err := deleteTenant(tx, t); err != nil {
				return err
			}
			continue
		}
		if err := deleteMember(tx, slug, accountID); err != nil {
			return err
		}
	}
	// Tenants it created but no longer belongs to stop counting against
	// its plan with it.
	return record.DeletePrefix(tx, prefixCreator+accountID+"/")
}

var _ account.Cascade = ForAccount

// RefreshType names which cache versions a refresh bumps.
type RefreshType string

// The refresh types of POST refresh-cache.
const (
	RefreshAPI    RefreshType = "api"
	RefreshAssets RefreshType = "assets"
	RefreshHTML   RefreshType = "html"
	RefreshAll    RefreshType = "all"
)

// Valid reports whether r is one of the four types.
func (r RefreshType) Valid() bool {
	return r == RefreshAPI || r == RefreshAssets || r == RefreshHTML || r == RefreshAll
}

// bump applies r to v.
func (r RefreshType) bump(v *Versions) {
	if r == RefreshAPI || r == RefreshAll {
		v.APICacheVersion++
	}
	if r == RefreshAssets || r == RefreshAll {
		v.AssetCacheVersion++
	}
	if r == RefreshHTML || r == RefreshAll {
		v.HTMLCacheVersion++
	}
}

type refreshRequest struct {
	Actor Actor       `json:"actor"`
	Slug  string      `json:"slug"`
	Type  RefreshType `json:"type"`
	At    time.Time   `json:"at"`
}

func applyRefresh(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req refreshRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	if !req.Type.Valid() {
		return nil, ErrBadRefresh
	}
	t, _, err := authorize(tx, req.Slug, req.Actor, ActRefreshCache)
	if err != nil {
		return nil, err
	}
	return bumpVersions(tx, t, req.Type, req.Actor, req.At, nil)
}

// bumpVersions applies r to t's versions, stores t and records it.
func bumpVersions(tx *storage.Tx, t Tenant, r RefreshType, actor Actor, at time.Time, detail map[string]string) (Versions, error) {
	r.bump(&t.Versions)
	if err := record.Put(tx, prefixTenant+t.Slug, t); err != nil {
		return Versions{}, err
	}
	if detail == nil {
		detail = map[string]string{}
	}
	detail["type"] = string(r)
	v := t.Versions
	detail["versions"] = fmt.Sprintf("api=%d assets=%d html=%d", v.APICacheVersion, v.AssetCacheVersion, v.HTMLCacheVersion)
	return v, audit(tx, t.Slug, "cache.refresh", actor, t.Key(), detail, at)
}
