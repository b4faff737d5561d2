package tenant

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/consensus/consensustest"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/seal"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/plan"
)

// fixture is a single raft node with the account and tenant commands.
type fixture struct {
	*consensustest.Node
	ctx      context.Context
	accounts *account.Service
	tenants  *Service
}

func newFixture(t *testing.T, policy origin.Policy) *fixture {
	t.Helper()
	fx := &fixture{}
	fx.Node = consensustest.Start(t, func(fsm *consensus.FSM) {
		account.Register(fsm, ForAccount)
		Register(fsm)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	fx.ctx = ctx
	fx.accounts = account.NewService(fx.Raft, fx.State, plan.Defaults())
	box, err := seal.New(bytes.Repeat([]byte{9}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	fx.tenants = NewService(fx.Raft, fx.State, Options{Policy: policy, Box: box, TenantDomain: "tenants.test"})
	return fx
}

func (fx *fixture) account(t *testing.T, email string) account.Account {
	t.Helper()
	a, err := fx.accounts.Create(fx.ctx, email, "pro")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var (
	private    = origin.Policy{AllowPrivate: true}
	twoTenants = plan.Plan{Tenants: 2}
	contentful = CMS{Provider: "contentful", Fields: map[string]string{"spaceId": "abc123"}}
)

func (fx *fixture) create(t *testing.T, a account.Account, slug string) Tenant {
	t.Helper()
	tn, err := fx.tenants.Create(fx.ctx, a, twoTenants, slug, contentful, Patch{})
	if err != nil {
		t.Fatalf("create %s: %v", slug, err)
	}
	return tn
}

// member invites email into slug with role (as the owner) and accepts it.
func (fx *fixture) member(t *testing.T, owner Actor, slug string, a account.Account, role Role) {
	t.Helper()
	_, token, err := fx.tenants.Invite(fx.ctx, owner, slug, a.Email, role)
	if err != nil {
		t.Fatalf("invite %s: %v", a.Email, err)
	}
	if _, err := fx.tenants.Accept(fx.ctx, a.ID, token); err != nil {
		t.Fatalf("accept %s: %v", a.Email, err)
	}
}

func wantKind(t *testing.T, what string, err error, k errkind.Kind) {
	t.Helper()
	if errkind.KindOf(err) != k {
		t.Fatalf("%s: %v (%v), want %v", what, err, errkind.KindOf(err), k)
	}
}

func as(a account.Account) Actor { return Actor{AccountID: a.ID} }

var operator = Actor{Operator: true}

func TestCreateAndRead(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	ttl, dom, api := 300, "WWW.Example.com", "HTTP://127.0.0.1:9000/"
	tn, err := fx.tenants.Create(fx.ctx, a, twoTenants, " Acme ", contentful, Patch{CacheTTL: &ttl, WebsiteDomain: &dom, APIOrigin: &api})
	if err != nil {
		t.Fatal(err)
	}
	if tn.Slug != "acme" || tn.Key() != "tenant:acme" || tn.CacheTTL != 300 || tn.WebsiteDomain != "www.example.com" || tn.APIOrigin != "http://127.0.0.1:9000" || tn.Versions != (Versions{1, 1, 1}) || tn.CreatedBy != a.ID {
		t.Fatalf("created %+v", tn)
	}
	got, role, err := fx.tenants.Get(fx.ctx, as(a), "acme")
	if err != nil || role != Owner || got.Slug != "acme" {
		t.Fatalf("get: %+v %v %v", got, role, err)
	}
	list, err := fx.tenants.List(fx.ctx, a.ID)
	if err != nil || len(list) != 1 || list[0].Slug != "acme" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if _, ok, err := fx.tenants.Available(fx.ctx, "ACME"); err != nil || ok {
		t.Fatalf("acme available: %v %v", ok, err)
	}
	if n, ok, err := fx.tenants.Available(fx.ctx, "other"); err != nil || !ok || n != "other" {
		t.Fatalf("other available: %v %v", ok, err)
	}
	fx.RequireDeterministic(t)
}

func TestCreateRefusals(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	b := fx.account(t, "b@example.com")
	fx.create(t, a, "taken")
	huge := strings.Repeat("x", 1<<20)
	bigTTL, badDom, badOrigin := MaxCacheTTL+1, "not a host", "ftp://example.com"
	tests := []struct {
		name  string
		slug  string
		cms   CMS
		patch Patch
		want  errkind.Kind
	}{
		{"duplicate", "taken", contentful, Patch{}, errkind.Conflict},
		{"duplicate, other case", "TAKEN", contentful, Patch{}, errkind.Conflict},
		{"reserved", "www", contentful, Patch{}, errkind.Invalid},
		{"reserved api", "api", contentful, Patch{}, errkind.Invalid},
		{"not a label", "a.b", contentful, Patch{}, errkind.Invalid},
		{"too long", strings.Repeat("a", 64), contentful, Patch{}, errkind.Invalid},
		{"unknown provider", "x", CMS{Provider: "wordpress"}, Patch{}, errkind.Invalid},
		{"huge field", "x", CMS{Provider: "generic", Fields: map[string]string{"k": huge}}, Patch{}, errkind.Invalid},
		{"ttl", "x", contentful, Patch{CacheTTL: &bigTTL}, errkind.Invalid},
		{"domain", "x", contentful, Patch{WebsiteDomain: &badDom}, errkind.Invalid},
		{"origin", "x", contentful, Patch{WebsiteOrigin: &badOrigin}, errkind.Invalid},
		{"huge origin", "x", contentful, Patch{APIOrigin: &huge}, errkind.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fx.tenants.Create(fx.ctx, b, twoTenants, tt.slug, tt.cms, tt.patch)
			wantKind(t, tt.name, err, tt.want)
		})
	}
	fx.RequireDeterministic(t)
}

func TestPlanLimit(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	fx.create(t, a, "one")
	fx.create(t, a, "two")
	_, err := fx.tenants.Create(fx.ctx, a, twoTenants, "three", contentful, Patch{})
	wantKind(t, "third tenant", err, errkind.Forbidden)
	e := errkind.Of(err)
	if e == nil || e.Fields["current"] != 2 || e.Fields["allowed"] != 2 {
		t.Fatalf("limit fields: %+v", e)
	}
	if _, err := fx.tenants.Delete(fx.ctx, as(a), "two"); err != nil {
		t.Fatal(err)
	}
	fx.create(t, a, "three")
}

func TestOriginPolicy(t *testing.T) {
	fx := newFixture(t, origin.Policy{})
	a := fx.account(t, "a@example.com")
	for _, o := range []string{"http://127.0.0.1:9000", "http://10.0.0.1", "http://[::1]/"} {
		o := o
		if _, err := fx.tenants.Create(fx.ctx, a, twoTenants, "t", contentful, Patch{APIOrigin: &o}); !errors.Is(err, origin.ErrBlockedAddr) {
			t.Errorf("origin %s: %v, want ErrBlockedAddr", o, err)
		}
	}
}

func TestUpdateMerges(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	fx.create(t, a, "acme")
	ttl := 60
	got, err := fx.tenants.Update(fx.ctx, as(a), "acme", Patch{CacheTTL: &ttl, CMS: &CMS{Fields: map[string]string{"environment": "master"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.CacheTTL != 60 || got.CMS.Provider != "contentful" || got.CMS.Fields["spaceId"] != "abc123" || got.CMS.Fields["environment"] != "master" {
		t.Fatalf("merged %+v", got)
	}
	got, err = fx.tenants.Update(fx.ctx, as(a), "acme", Patch{CMS: &CMS{Fields: map[string]string{"spaceId": ""}}})
	if err != nil || len(got.CMS.Fields) != 1 || got.CacheTTL != 60 {
		t.Fatalf("field removed: %+v %v", got, err)
	}
	events, _, err := fx.tenants.Audit(fx.ctx, as(a), "acme", 10, 0)
	if err != nil || len(events) != 3 || events[0].Action != "tenant.update" || events[2].Action != "tenant.create" {
		t.Fatalf("audit: %+v %v", events, err)
	}
	fx.RequireDeterministic(t)
}

// TestIsolation: a non-member gets ErrNotFound on every operation of a
// tenant that exists, exactly as for one that does not; the operator acts
// on every tenant.
func TestIsolation(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	b := fx.account(t, "b@example.com")
	fx.create(t, a, "acme")
	ttl := 1
	for _, slug := range []string{"acme", "missing"} {
		ops := map[string]func(Actor) error{
			"get":     func(x Actor) error { _, _, err := fx.tenants.Get(fx.ctx, x, slug); return err },
			"update":  func(x Actor) error { _, err := fx.tenants.Update(fx.ctx, x, slug, Patch{CacheTTL: &ttl}); return err },
			"refresh": func(x Actor) error { _, err := fx.tenants.Refresh(fx.ctx, x, slug, RefreshAll); return err },
			"members": func(x Actor) error { _, _, err := fx.tenants.Members(fx.ctx, x, slug); return err },
			"invite": func(x Actor) error {
				_, _, err := fx.tenants.Invite(fx.ctx, x, slug, "c@example.com", Viewer)
				return err
			},
			"revoke": func(x Actor) error { return fx.tenants.RevokeInvite(fx.ctx, x, slug, 1) },
			"remove": func(x Actor) error { return fx.tenants.Remove(fx.ctx, x, slug, a.ID) },
			"role":   func(x Actor) error { _, err := fx.tenants.UpdateRole(fx.ctx, x, slug, a.ID, Viewer); return err },
			"audit":  func(x Actor) error { _, _, err := fx.tenants.Audit(fx.ctx, x, slug, 5, 0); return err },
			"delete": func(x Actor) error { _, err := fx.tenants.Delete(fx.ctx, x, slug); return err },
		}
		for name, op := range ops {
			if err := op(as(b)); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s %s by non-member: %v, want ErrNotFound", name, slug, err)
			}
		}
	}
	if l, err := fx.tenants.List(fx.ctx, b.ID); err != nil || len(l) != 0 {
		t.Fatalf("b lists %+v %v", l, err)
	}
	// The operator reads, configures and administers without membership.
	if _, role, err := fx.tenants.Get(fx.ctx, operator, "acme"); err != nil || role != Operator {
		t.Fatalf("operator get: %v %v", role, err)
	}
	if v, err := fx.tenants.Refresh(fx.ctx, operator, "acme", RefreshHTML); err != nil || v.HTMLCacheVersion != 2 {
		t.Fatalf("operator refresh: %+v %v", v, err)
	}
	events, _, err := fx.tenants.Audit(fx.ctx, operator, "acme", 1, 0)
	if err != nil || events[0].ActorID != OperatorID {
		t.Fatalf("operator audit: %+v %v", events, err)
	}
	if _, err := fx.tenants.Delete(fx.ctx, operator, "acme"); err != nil {
		t.Fatalf("operator delete: %v", err)
	}
}

// TestMembersThroughRaft drives the role rules through Apply: the matrix
// in role_test.go is the whole table; this checks Apply wires the right
// caller, target and owner count into it.
func TestMembersThroughRaft(t *testing.T) {
	fx := newFixture(t, private)
	own := fx.account(t, "own@example.com")
	adm := fx.account(t, "adm@example.com")
	ed := fx.account(t, "ed@example.com")
	fx.create(t, own, "acme")
	fx.member(t, as(own), "acme", adm, Admin)
	fx.member(t, as(adm), "acme", ed, Editor)

	// Admins cannot invite owners, and see invites; editors see none and
	// cannot invite.
	if _, _, err := fx.tenants.Invite(fx.ctx, as(adm), "acme", "x@example.com", Owner); !errors.Is(err, ErrEscalation) {
		t.Fatalf("admin invites owner: %v", err)
	}
	if _, _, err := fx.tenants.Invite(fx.ctx, as(ed), "acme", "x@example.com", Viewer); !errors.Is(err, ErrForbidden) {
		t.Fatalf("editor invites: %v", err)
	}
	first, tok1, err := fx.tenants.Invite(fx.ctx, as(adm), "acme", "X@example.com", Viewer)
	if err != nil || first.Email != "x@example.com" || !strings.HasPrefix(tok1, InviteTokenPrefix) {
		t.Fatalf("invite: %+v %v", first, err)
	}
	// Re-inviting refreshes the same invite: new role and token, old token dead.
	again, tok2, err := fx.tenants.Invite(fx.ctx, as(adm), "acme", "x@example.com", Editor)
	if err != nil || again.ID != first.ID || again.Role != Editor || tok2 == tok1 {
		t.Fatalf("re-invite: %+v %v", again, err)
	}
	ms, invs, err := fx.tenants.Members(fx.ctx, as(adm), "acme")
	if err != nil || len(ms) != 3 || len(invs) != 1 || invs[0].ID != first.ID {
		t.Fatalf("admin members: %d %+v %v", len(ms), invs, err)
	}
	if _, invs, err := fx.tenants.Members(fx.ctx, as(ed), "acme"); err != nil || len(invs) != 0 {
		t.Fatalf("editor sees invites: %+v %v", invs, err)
	}
	x := fx.account(t, "x@example.com")
	if _, err := fx.tenants.Accept(fx.ctx, x.ID, tok1); !errors.Is(err, ErrInviteNotFound) {
		t.Fatalf("old token: %v", err)
	}
	if _, err := fx.tenants.Accept(fx.ctx, ed.ID, tok2); !errors.Is(err, ErrInviteEmail) {
		t.Fatalf("other account accepts: %v", err)
	}
	if r, err := fx.tenants.Accept(fx.ctx, x.ID, tok2); err != nil || r.Member.Role != Editor || r.Key != "tenant:acme" {
		t.Fatalf("accept: %+v %v", r, err)
	}
	// Revoking: a second revoke is 404.
	inv, _, err := fx.tenants.Invite(fx.ctx, as(own), "acme", "y@example.com", Viewer)
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.tenants.RevokeInvite(fx.ctx, as(adm), "acme", inv.ID); err != nil {
		t.Fatal(err)
	}
	if err := fx.tenants.RevokeInvite(fx.ctx, as(adm), "acme", inv.ID); !errors.Is(err, ErrInviteNotFound) {
		t.Fatalf("second revoke: %v", err)
	}

	cases := []struct {
		name string
		err  error
		want error
	}{
		{"admin removes itself", fx.tenants.Remove(fx.ctx, as(adm), "acme", adm.ID), ErrSelf},
		{"admin removes owner", fx.tenants.Remove(fx.ctx, as(adm), "acme", own.ID), ErrLastOwner},
		{"operator removes last owner", fx.tenants.Remove(fx.ctx, operator, "acme", own.ID), ErrLastOwner},
		{"owner changes own role", second(fx.tenants.UpdateRole(fx.ctx, as(own), "acme", own.ID, Admin)), ErrSelf},
		{"admin makes owner", second(fx.tenants.UpdateRole(fx.ctx, as(adm), "acme", ed.ID, Owner)), ErrEscalation},
		{"editor changes role", second(fx.tenants.UpdateRole(fx.ctx, as(ed), "acme", x.ID, Viewer)), ErrForbidden},
		{"unknown member", fx.tenants.Remove(fx.ctx, as(own), "acme", "acct_nobody"), ErrMemberNotFound},
		{"operator demotes last owner", second(fx.tenants.UpdateRole(fx.ctx, operator, "acme", own.ID, Admin)), ErrLastOwner},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if m, err := fx.tenants.UpdateRole(fx.ctx, as(adm), "acme", ed.ID, Viewer); err != nil || m.Role != Viewer {
		t.Fatalf("admin demotes editor: %+v %v", m, err)
	}
	if err := fx.tenants.Remove(fx.ctx, as(adm), "acme", ed.ID); err != nil {
		t.Fatalf("admin removes viewer: %v", err)
	}
	if _, _, err := fx.tenants.Get(fx.ctx, as(ed), "acme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed member reads: %v", err)
	}
	events, _, err := fx.tenants.Audit(fx.ctx, as(own), "acme", MaxAuditPage, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.Action] = true
		for k, v := range e.Detail {
			if strings.Contains(v, InviteTokenPrefix) {
				t.Fatalf("audit %s %s holds a token", e.Action, k)
			}
		}
	}
	for _, a := range []string{"tenant.create", "member.invite", "member.accept", "member.revoke-invite", "member.update-role", "member.remove"} {
		if !seen[a] {
			t.Errorf("no %s event in %+v", a, events)
		}
	}
	fx.RequireDeterministic(t)
}

func second[T any](_ T, err error) error { return err }

func TestDeleteCascades(t *testing.T) {
	fx := newFixture(t, private)
	own := fx.account(t, "own@example.com")
	ed := fx.account(t, "ed@example.com")
	fx.create(t, own, "acme")
	fx.member(t, as(own), "acme", ed, Editor)
	_, tok, err := fx.tenants.Invite(fx.ctx, as(own), "acme", "z@example.com", Viewer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.tenants.Delete(fx.ctx, as(ed), "acme"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("editor deletes: %v", err)
	}
	if _, err := fx.tenants.Delete(fx.ctx, as(own), "acme"); err != nil {
		t.Fatal(err)
	}
	var left []string
	fx.State.Scan([]byte("tenant"), func(k, _ []byte) error {
		if !strings.HasPrefix(string(k), "tenant-seq/") {
			left = append(left, string(k))
		}
		return nil
	})
	if len(left) != 0 {
		t.Fatalf("keys left after delete: %v", left)
	}
	z := fx.account(t, "z@example.com")
	if _, err := fx.tenants.Accept(fx.ctx, z.ID, tok); !errors.Is(err, ErrInviteNotFound) {
		t.Fatalf("invite of a deleted tenant: %v", err)
	}
	// The slug is free again, and the new tenant has no old audit.
	fx.create(t, ed, "acme")
	events, _, err := fx.tenants.Audit(fx.ctx, as(ed), "acme", 50, 0)
	if err != nil || len(events) != 1 {
		t.Fatalf("recreated audit: %+v %v", events, err)
	}
	fx.RequireDeterministic(t)
}

func TestAccountDeleteCascade(t *testing.T) {
	fx := newFixture(t, private)
	own := fx.account(t, "own@example.com")
	ed := fx.account(t, "ed@example.com")
	fx.create(t, own, "solo")
	fx.create(t, ed, "shared")
	fx.member(t, as(ed), "shared", own, Editor)
	if err := fx.accounts.Delete(fx.ctx, own.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := fx.tenants.Available(fx.ctx, "solo"); !ok {
		t.Fatal("a tenant whose last owner was deleted survives")
	}
	ms, _, err := fx.tenants.Members(fx.ctx, as(ed), "shared")
	if err != nil || len(ms) != 1 || ms[0].UserID != ed.ID {
		t.Fatalf("shared members: %+v %v", ms, err)
	}
	fx.RequireDeterministic(t)
}

func TestRefresh(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	fx.create(t, a, "acme")
	want := []Versions{{2, 1, 1}, {2, 2, 1}, {2, 2, 2}, {3, 3, 3}}
	for i, typ := range []RefreshType{RefreshAPI, RefreshAssets, RefreshHTML, RefreshAll} {
		v, err := fx.tenants.Refresh(fx.ctx, as(a), "acme", typ)
		if err != nil || v != want[i] {
			t.Fatalf("%s: %+v %v, want %+v", typ, v, err, want[i])
		}
	}
	_, err := fx.tenants.Refresh(fx.ctx, as(a), "acme", "css")
	wantKind(t, "bad type", err, errkind.Invalid)
	fx.RequireDeterministic(t)
}

func FuzzNormalizeSlug(f *testing.F) {
	for _, s := range []string{"acme", "my-project", "-a", "a-", "WWW", "a.b", "", strings.Repeat("a", 64), "ünï", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeSlug(s)
		if err != nil {
			if !errors.Is(err, ErrBadSlug) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if !validLabel(n) || Reserved[n] || n != strings.ToLower(n) {
			t.Fatalf("%q normalized to %q", s, n)
		}
		if again, err := NormalizeSlug(n); err != nil || again != n {
			t.Fatalf("%q not idempotent: %q %v", n, again, err)
		}
	})
}
