package tenant

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/internal/seal"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/storage"
)

// InviteTokenPrefix starts every invite token.
const InviteTokenPrefix = "inv_"

// Service manages tenants through raft and reads them from local state
// after a read barrier, so a read on any node sees every acknowledged
// write. Safe for concurrent use.
type Service struct {
	raft         consensus.Proposer
	state        *storage.State
	policy       origin.Policy
	box          *seal.Box
	tenantDomain string
	now          func() time.Time
	resolver     Resolver
	products     []string
}

// Options are what a Service needs beyond raft and state.
type Options struct {
	// Policy decides which origins a tenant may name, as it does for
	// zones and domains.
	Policy origin.Policy
	// Box seals webhook secrets and CMS tokens; without it those routes
	// fail (node always sets one: --encryption-key or HKDF of the cluster
	// key).
	Box *seal.Box
	// TenantDomain is --tenant-domain: a tenant is served at
	// <slug>.<TenantDomain>. Empty means tenants have no proxy host yet.
	TenantDomain string
	// Resolver looks up custom domains' verification TXT records; nil
	// means the system's nameservers (NewResolver("")).
	Resolver Resolver
	// ProductDomains are further hosts the product serves itself
	// (--cdn-domain, the public URL's host): no custom domain may be one
	// of them, or TenantDomain, or under one.
	ProductDomains []string
}

// NewService returns a tenant service.
func NewService(raft consensus.Proposer, state *storage.State, opts Options) *Service {
	s := &Service{raft: raft, state: state, policy: opts.Policy, box: opts.Box, tenantDomain: opts.TenantDomain, now: time.Now}
	s.resolver, s.products = opts.Resolver, productDomains(opts)
	if s.resolver == nil {
		s.resolver = NewResolver("")
	}
	return s
}

func (s *Service) at() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// checkOrigin parses raw and applies the SSRF policy; "" clears the field.
func (s *Service) checkOrigin(ctx context.Context, raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	return s.policy.Origin(ctx, raw)
}

// checkPatch validates and normalizes every field p sets.
func (s *Service) checkPatch(ctx context.Context, p *Patch) error {
	if p.CMS != nil {
		c := *p.CMS
		probe := c
		if probe.Provider == "" {
			probe.Provider = "generic" // a patch may change fields only
		}
		if err := validCMS(probe); err != nil {
			return err
		}
		p.CMS = &c
	}
	if p.CacheTTL != nil && (*p.CacheTTL < 0 || *p.CacheTTL > MaxCacheTTL) {
		return ErrBadTTL
	}
	if p.WebsiteDomain != nil && *p.WebsiteDomain != "" {
		h, err := origin.NormalizeHost(*p.WebsiteDomain)
		if err != nil || len(h) > 253 || !strings.Contains(h, ".") {
			return ErrBadDomain
		}
		p.WebsiteDomain = &h
	}
	for _, f := range []*string{p.WebsiteOrigin, p.APIOrigin} {
		if f == nil {
			continue
		}
		o, err := s.checkOrigin(ctx, *f)
		if err != nil {
			return err
		}
		*f = o
	}
	return nil
}

// Create registers a tenant for acct, who becomes its owner. The
// tenants acct created count against p.Tenants.
func (s *Service) Create(ctx context.Context, acct account.Account, p plan.Plan, slug string, cms CMS, fields Patch) (Tenant, error) {
	n, err := NormalizeSlug(slug)
	if err != nil {
		return Tenant{}, err
	}
	if err := validCMS(cms); err != nil {
		return Tenant{}, err
	}
	fields.CMS = nil
	if err := s.checkPatch(ctx, &fields); err != nil {
		return Tenant{}, err
	}
	now := s.at()
	t := Tenant{Slug: n, CMS: cms, Versions: Versions{1, 1, 1}, CreatedBy: acct.ID, CreatedAt: now, UpdatedAt: now}
	merge(&t, fields)
	raw, err := consensus.Propose(ctx, s.raft, "create tenant", cmdCreate, 1, createRequest{Tenant: t, Allowed: p.Tenants})
	if err != nil {
		return Tenant{}, err
	}
	return decode[Tenant](raw, "create tenant")
}

// Available reports whether slug is a valid slug no tenant has; an
// invalid slug is ErrBadSlug.
func (s *Service) Available(ctx context.Context, slug string) (string, bool, error) {
	n, err := NormalizeSlug(slug)
	if err != nil {
		return "", false, err
	}
	if err := s.raft.Fresh(ctx); err != nil {
		return "", false, err
	}
	taken, err := record.Exists(s.state, prefixTenant+n)
	return n, !taken, err
}

// Get returns the tenant if actor may read it.
func (s *Service) Get(ctx context.Context, actor Actor, slug string) (Tenant, Role, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return Tenant{}, NoRole, err
	}
	return authorize(s.state, slug, actor, ActRead)
}

// Authorize checks, on fresh local state, that actor may take a on slug:
// the HTTP layer uses it for reads and to refuse early.
func (s *Service) Authorize(ctx context.Context, actor Actor, slug string, a Action) (Tenant, Role, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return Tenant{}, NoRole, err
	}
	return authorize(s.state, slug, actor, a)
}

// List returns the tenants accountID is a member of, in slug order.
func (s *Service) List(ctx context.Context, accountID string) ([]Tenant, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return nil, err
	}
	return record.Resolve[Tenant](s.state, prefixAccount+accountID+"/", prefixTenant, ErrNotFound)
}

// ListAll returns every tenant, for the operator, in slug order.
func (s *Service) ListAll(ctx context.Context) ([]Tenant, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return nil, err
	}
	return record.List[Tenant](s.state, prefixTenant)
}

// Update merges p into the tenant (editor and above).
func (s *Service) Update(ctx context.Context, actor Actor, slug string, p Patch) (Tenant, error) {
	if !validLabel(slug) {
		return Tenant{}, ErrNotFound
	}
	if err := s.checkPatch(ctx, &p); err != nil {
		return Tenant{}, err
	}
	raw, err := consensus.Propose(ctx, s.raft, "update tenant", cmdPatch, 1, patchRequest{Actor: actor, Slug: slug, Patch: p, At: s.at()})
	if err != nil {
		return Tenant{}, err
	}
	return decode[Tenant](raw, "update tenant")
}

// Delete removes the tenant and everything kept for it (owner only).
func (s *Service) Delete(ctx context.Context, actor Actor, slug string) (Tenant, error) {
	if !validLabel(slug) {
		return Tenant{}, ErrNotFound
	}
	raw, err := consensus.Propose(ctx, s.raft, "delete tenant", cmdDelete, 1, slugRequest{Actor: actor, Slug: slug, At: s.at()})
	if err != nil {
		return Tenant{}, err
	}
	return decode[Tenant](raw, "delete tenant")
}

// Refresh bumps the versions t names (editor and above).
func (s *Service) Refresh(ctx context.Context, actor Actor, slug string, t RefreshType) (Versions, error) {
	if !t.Valid() {
		return Versions{}, ErrBadRefresh
	}
	if !validLabel(slug) {
		return Versions{}, ErrNotFound
	}
	raw, err := consensus.Propose(ctx, s.raft, "refresh tenant cache", cmdRefresh, 1, refreshRequest{Actor: actor, Slug: slug, Type: t, At: s.at()})
	if err != nil {
		return Versions{}, err
	}
	return decode[Versions](raw, "refresh tenant cache")
}

// Members lists the tenant's members, and its pending invites when the
// actor is an admin or above (invites carry emails); viewer and above.
func (s *Service) Members(ctx context.Context, actor Actor, slug string) ([]Member, []Invite, error) {
	_, role, err := s.Authorize(ctx, actor, slug, ActRead)
	if err != nil {
		return nil, nil, err
	}
	ms, err := record.List[Member](s.state, memberPrefix(slug))
	if err != nil {
		return nil, nil, err
	}
	invs := []Invite{}
	if role >= Admin {
		stored, err := record.List[storedInvite](s.state, invitePrefix(slug))
		if err != nil {
			return nil, nil, err
		}
		for _, inv := range stored {
			invs = append(invs, inv.Invite)
		}
	}
	return ms, invs, nil
}

// Invite creates or refreshes the pending invite of email with role and
// returns it with its raw token, which is shown this once (state keeps
// its SHA-256).
func (s *Service) Invite(ctx context.Context, actor Actor, slug, email string, role Role) (Invite, string, error) {
	e, err := account.NormalizeEmail(email)
	if err != nil {
		return Invite{}, "", err
	}
	if role < Viewer || role > Owner {
		return Invite{}, "", ErrBadRole
	}
	if !validLabel(slug) {
		return Invite{}, "", ErrNotFound
	}
	token := secret.New(InviteTokenPrefix)
	now := s.at()
	req := inviteRequest{Actor: actor, Slug: slug, Email: e, Role: role, TokenHash: secret.Hash(token), ExpiresAt: now.Add(InviteTTL), At: now}
	raw, err := consensus.Propose(ctx, s.raft, "invite member", cmdInvite, 1, req)
	if err != nil {
		return Invite{}, "", err
	}
	inv, err := decode[Invite](raw, "invite member")
	return inv, token, err
}

// RevokeInvite drops a pending invite (admin and above); one already
// revoked or accepted is ErrInviteNotFound.
func (s *Service) RevokeInvite(ctx context.Context, actor Actor, slug string, id int64) error {
	if !validLabel(slug) {
		return ErrNotFound
	}
	if id <= 0 {
		return ErrInviteNotFound
	}
	_, err := consensus.Propose(ctx, s.raft, "revoke invite", cmdRevokeInvite, 1, revokeRequest{Actor: actor, Slug: slug, InviteID: id, At: s.at()})
	return err
}

// Accept makes accountID a member with the invite's role, if the token is
// a live invite sent to the account's email.
func (s *Service) Accept(ctx context.Context, accountID, token string) (AcceptResult, error) {
	if !secret.HasShape(token, InviteTokenPrefix) {
		return AcceptResult{}, ErrBadInviteToken
	}
	raw, err := consensus.Propose(ctx, s.raft, "accept invite", cmdAccept, 1, acceptRequest{AccountID: accountID, TokenHash: secret.Hash(token), At: s.at()})
	if err != nil {
		return AcceptResult{}, err
	}
	return decode[AcceptResult](raw, "accept invite")
}

// Remove takes userID out of the tenant under the removal rules.
func (s *Service) Remove(ctx context.Context, actor Actor, slug, userID string) error {
	if !validLabel(slug) {
		return ErrNotFound
	}
	if !validUserID(userID) {
		return ErrMemberNotFound
	}
	_, err := consensus.Propose(ctx, s.raft, "remove member", cmdRemove, 1, memberRequest{Actor: actor, Slug: slug, UserID: userID, At: s.at()})
	return err
}

// UpdateRole changes userID's role under the role-change rules.
func (s *Service) UpdateRole(ctx context.Context, actor Actor, slug, userID string, role Role) (Member, error) {
	if role < Viewer || role > Owner {
		return Member{}, ErrBadRole
	}
	if !validLabel(slug) {
		return Member{}, ErrNotFound
	}
	if !validUserID(userID) {
		return Member{}, ErrMemberNotFound
	}
	raw, err := consensus.Propose(ctx, s.raft, "update member role", cmdUpdateRole, 1, memberRequest{Actor: actor, Slug: slug, UserID: userID, Role: role, At: s.at()})
	if err != nil {
		return Member{}, err
	}
	return decode[Member](raw, "update member role")
}

// Audit returns a page of the tenant's audit events, newest first, with
// ID < beforeID (0: from the newest); viewer and above.
func (s *Service) Audit(ctx context.Context, actor Actor, slug string, limit int, beforeID uint64) ([]Event, bool, error) {
	if limit < 1 || limit > MaxAuditPage {
		return nil, false, ErrBadLimit
	}
	if _, _, err := s.Authorize(ctx, actor, slug, ActRead); err != nil {
		return nil, false, err
	}
	return auditPage(s.state, slug, limit, beforeID)
}

// validUserID bounds an account ID before it reaches raft or a key.
func validUserID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	return fieldName(id)
}

func decode[T any](raw json.RawMessage, op string) (T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("%s: %w", op, err)
	}
	return v, nil
}
