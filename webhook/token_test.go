package webhook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/consensus/consensustest"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/plan"
)

var (
	withTokens    = plan.Plan{Sites: plan.Unlimited, WebhookTokens: true}
	withoutTokens = plan.Plan{Sites: plan.Unlimited}
)

type fixture struct {
	*consensustest.Node
	ctx      context.Context
	accounts *account.Service
	domains  *domain.Service
	tokens   *Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{}
	fx.Node = consensustest.Start(t, func(fsm *consensus.FSM) {
		account.Register(fsm, domain.ForAccount(DeleteForDomain))
		domain.Register(fsm, DeleteForDomain)
		Register(fsm)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	fx.ctx = ctx
	fx.accounts = account.NewService(fx.Raft, fx.State, plan.Defaults())
	fx.domains = domain.NewService(fx.Raft, fx.State, origin.Policy{AllowPrivate: true})
	fx.tokens = NewService(fx.Raft, fx.State)
	return fx
}

// site creates an account with one domain.
func (fx *fixture) site(t *testing.T, email, host string) domain.Domain {
	t.Helper()
	a, err := fx.accounts.Create(fx.ctx, email, "agency")
	if err != nil {
		t.Fatal(err)
	}
	d, err := fx.domains.Create(fx.ctx, a, withTokens, host, domain.Settings{Origin: domain.To("http://127.0.0.1:1")})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (fx *fixture) create(t *testing.T, d domain.Domain, name string) Created {
	t.Helper()
	c, err := fx.tokens.Create(fx.ctx, d, withTokens, name)
	if err != nil {
		t.Fatalf("create token %q: %v", name, err)
	}
	return c
}

// Creating a token needs a plan with webhook tokens and a valid name; the
// token is shown once and stored as a digest; a domain holds at most
// MaxTokensPerDomain.
func TestCreateRulesAndLimit(t *testing.T) {
	fx := newFixture(t)
	d := fx.site(t, "hooks@example.com", "hooks.example.com")
	before := fx.State.AppliedIndex()
	tests := []struct {
		name    string
		p       plan.Plan
		token   string
		wantErr error
	}{
		{"plan without tokens", withoutTokens, "ci", ErrPlan},
		{"no name", withTokens, "", account.CheckName("name", "")},
		{"long name", withTokens, strings.Repeat("w", 101), account.CheckName("name", strings.Repeat("w", 101))},
		{"huge name", withTokens, strings.Repeat("w", 900_000), account.CheckName("name", strings.Repeat("w", 900_000))},
		{"control character", withTokens, "ci\x00", account.CheckName("name", "ci\x00")},
		{"invalid UTF-8", withTokens, "ci\xc3", account.CheckName("name", "ci\xc3")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := fx.tokens.Create(fx.ctx, d, tt.p, tt.token); !errors.Is(err, tt.wantErr) {
				t.Fatalf("create: %v, want %v", err, tt.wantErr)
			}
		})
	}
	if after := fx.State.AppliedIndex(); after != before {
		t.Fatalf("refused tokens reached raft: applied index %d → %d", before, after)
	}

	var created []Created
	for i := range MaxTokensPerDomain {
		created = append(created, fx.create(t, d, fmt.Sprint("t", i)))
	}
	c := created[0]
	if !secret.HasShape(c.Token, TokenPrefix) {
		t.Fatalf("token %q", c.Token)
	}
	stored, err := record.Get[Token](fx.State, prefixToken+c.ID, ErrNotFound)
	if err != nil || stored.Hash != secret.Hash(c.Token) || stored.Domain != d.Domain || stored.AccountID != d.AccountID {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	_, err = fx.tokens.Create(fx.ctx, d, withTokens, "one too many")
	if !errors.Is(err, ErrLimit) || fmt.Sprint(errkind.Of(err).Fields["current"], errkind.Of(err).Fields["allowed"]) != "5 5" {
		t.Fatalf("sixth token: %#v", errkind.Of(err))
	}
	// The limit is per domain.
	other, err := fx.domains.Create(fx.ctx, account.Account{ID: d.AccountID}, withTokens, "other.example.com", domain.Settings{Origin: domain.To("http://127.0.0.1:1")})
	if err != nil {
		t.Fatal(err)
	}
	fx.create(t, other, "other's first")
	if err := fx.tokens.Revoke(fx.ctx, d, created[2].ID); err != nil {
		t.Fatal(err)
	}
	fx.create(t, d, "after revoke")
	views, err := fx.tokens.List(fx.ctx, d)
	if err != nil || len(views) != MaxTokensPerDomain {
		t.Fatalf("list: %d tokens, %v", len(views), err)
	}
	fx.RequireDeterministic(t)
}

// A token belongs to one domain of one account: nobody else creates,
// lists or revokes it, and IDs that cannot be tokens never reach raft.
func TestOwnership(t *testing.T) {
	fx := newFixture(t)
	a := fx.site(t, "a@example.com", "a.example.com")
	b := fx.site(t, "b@example.com", "b.example.com")
	c := fx.create(t, a, "a's")

	// b claiming a's domain (the API would 404 it first; Apply checks again).
	forged := a
	forged.AccountID = b.AccountID
	if _, err := fx.tokens.Create(fx.ctx, forged, withTokens, "evil"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("create on another account's domain: %v", err)
	}
	if err := fx.tokens.Revoke(fx.ctx, forged, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke as another account: %v", err)
	}
	if err := fx.tokens.Revoke(fx.ctx, b, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke through another domain: %v", err)
	}
	if views, _ := fx.tokens.List(fx.ctx, b); len(views) != 0 {
		t.Fatalf("b lists a's token: %+v", views)
	}
	before := fx.State.AppliedIndex()
	for _, id := range []string{"", "wht_", "wht_xyz", "key_00000000000000000000", strings.Repeat("w", 500_000)} {
		if err := fx.tokens.Revoke(fx.ctx, a, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoke %.20q: %v", id, err)
		}
	}
	if after := fx.State.AppliedIndex(); after != before {
		t.Fatalf("malformed IDs reached raft: applied index %d → %d", before, after)
	}
	if err := fx.tokens.Revoke(fx.ctx, a, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{prefixToken + c.ID, prefixHash + secret.Hash(c.Token), prefixDomain + a.Domain + "/" + c.ID} {
		if ok, _ := record.Exists(fx.State, k); ok {
			t.Errorf("%s left behind after revoke", k)
		}
	}
	fx.RequireDeterministic(t)
}

// Deleting a domain, or its account, deletes the domain's tokens and their
// digests, and no other domain's.
func TestTokensGoWithTheirDomain(t *testing.T) {
	fx := newFixture(t)
	a := fx.site(t, "a@example.com", "a.example.com")
	b := fx.site(t, "b@example.com", "b.example.com")
	a2, err := fx.domains.Create(fx.ctx, account.Account{ID: a.AccountID}, withTokens, "a2.example.com", domain.Settings{Origin: domain.To("http://127.0.0.1:1")})
	if err != nil {
		t.Fatal(err)
	}
	ta, ta2, tb := fx.create(t, a, "a"), fx.create(t, a2, "a2"), fx.create(t, b, "b")
	gone := func(c Created, host string) bool {
		for _, k := range []string{prefixToken + c.ID, prefixHash + secret.Hash(c.Token), prefixDomain + host + "/" + c.ID} {
			if ok, _ := record.Exists(fx.State, k); ok {
				return false
			}
		}
		return true
	}
	if err := fx.domains.Delete(fx.ctx, a.AccountID, a.Domain); err != nil {
		t.Fatal(err)
	}
	if !gone(ta, a.Domain) || gone(ta2, a2.Domain) || gone(tb, b.Domain) {
		t.Fatal("a domain delete did not take exactly its own tokens")
	}
	if err := fx.accounts.Delete(fx.ctx, a.AccountID); err != nil {
		t.Fatal(err)
	}
	if !gone(ta2, a2.Domain) || gone(tb, b.Domain) {
		t.Fatal("an account delete did not take exactly its domains' tokens")
	}
	fx.RequireDeterministic(t)
}
