package tenant

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rendercache/rendercache/internal/errkind"
)

func TestWebhookSecret(t *testing.T) {
	fx := newFixture(t, private)
	own := fx.account(t, "own@example.com")
	ed := fx.account(t, "ed@example.com")
	vw := fx.account(t, "vw@example.com")
	fx.create(t, own, "acme")
	fx.member(t, as(own), "acme", ed, Editor)
	fx.member(t, as(own), "acme", vw, Viewer)

	if _, err := fx.tenants.FireWebhook(fx.ctx, "acme", "whsec_x"); !errors.Is(err, ErrWebhookNotConfigured) {
		t.Fatalf("before any secret: %v", err)
	}
	if _, err := fx.tenants.FireWebhook(fx.ctx, "nope", "whsec_x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
	if _, err := fx.tenants.WebhookSecret(fx.ctx, as(vw), "acme", false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("viewer generates: %v", err)
	}
	s1, err := fx.tenants.WebhookSecret(fx.ctx, as(ed), "acme", false)
	if err != nil || !strings.HasPrefix(s1, WebhookSecretPrefix) {
		t.Fatalf("generate: %q %v", s1, err)
	}
	if again, err := fx.tenants.WebhookSecret(fx.ctx, as(own), "acme", false); err != nil || again != s1 {
		t.Fatalf("POST is not idempotent: %q %v", again, err)
	}
	for _, bad := range []string{"", "whsec_wrong", s1 + "x", strings.Repeat("a", 10000)} {
		if _, err := fx.tenants.FireWebhook(fx.ctx, "acme", bad); !errors.Is(err, ErrWebhookSecret) {
			t.Fatalf("secret %.20q: %v", bad, err)
		}
	}
	v, err := fx.tenants.FireWebhook(fx.ctx, "acme", s1)
	if err != nil || v.HTMLCacheVersion != 2 || v.APICacheVersion != 1 {
		t.Fatalf("fire: %+v %v", v, err)
	}
	if _, err := fx.tenants.WebhookSecret(fx.ctx, as(ed), "acme", true); !errors.Is(err, ErrForbidden) {
		t.Fatalf("editor rotates: %v", err)
	}
	s2, err := fx.tenants.WebhookSecret(fx.ctx, as(own), "acme", true)
	if err != nil || s2 == s1 {
		t.Fatalf("rotate: %v", err)
	}
	if _, err := fx.tenants.FireWebhook(fx.ctx, "acme", s1); !errors.Is(err, ErrWebhookSecret) {
		t.Fatalf("old secret after rotate: %v", err)
	}
	if _, err := fx.tenants.FireWebhook(fx.ctx, "acme", s2); err != nil {
		t.Fatalf("new secret: %v", err)
	}
	fx.RequireDeterministic(t)
}

func TestAPIConfigAndToken(t *testing.T) {
	fx := newFixture(t, private)
	own := fx.account(t, "own@example.com")
	fx.create(t, own, "acme")
	bad := []APIConfigInput{
		{AuthMode: "basic"},
		{AuthMode: AuthHeader},
		{AuthMode: AuthQuery, AuthParam: "a b"},
		{AuthMode: AuthBearer, AuthParam: "x"},
		{AuthMode: AuthNone, CacheTTL: -1},
		{AuthMode: AuthNone, APIOrigin: "ftp://x"},
	}
	for _, in := range bad {
		if _, err := fx.tenants.SetAPIConfig(fx.ctx, as(own), "acme", in); errkind.KindOf(err) != errkind.Invalid {
			t.Errorf("%+v: %v", in, err)
		}
	}
	got, err := fx.tenants.SetAPIConfig(fx.ctx, as(own), "acme", APIConfigInput{APIOrigin: "http://127.0.0.1:9000", AuthMode: AuthHeader, AuthParam: "X-Api-Key", CacheTTL: 60, Preview: true})
	if err != nil || got.APIOrigin != "http://127.0.0.1:9000" || got.AuthParam != "X-Api-Key" || got.TokenSet {
		t.Fatalf("api config: %+v %v", got, err)
	}
	if _, err := fx.tenants.SetAPIToken(fx.ctx, as(own), "acme", ""); !errors.Is(err, ErrTokenMissing) {
		t.Fatalf("empty token: %v", err)
	}
	const token = "cfpat-supersecret-token-value"
	if _, err := fx.tenants.SetAPIToken(fx.ctx, as(own), "acme", token); err != nil {
		t.Fatal(err)
	}
	tn, _, err := fx.tenants.Get(fx.ctx, as(own), "acme")
	if err != nil || !tn.API.TokenSet || tn.API.TokenUpdatedAt == nil {
		t.Fatalf("token not shown as set: %+v %v", tn.API, err)
	}
	if b, _ := json.Marshal(tn); strings.Contains(string(b), token) {
		t.Fatal("the token is in the tenant's JSON")
	}
	if got, ok, err := fx.tenants.APIToken("acme"); err != nil || !ok || got != token {
		t.Fatalf("APIToken: %q %v %v", got, ok, err)
	}
	requireNoRaw(t, fx, token)
	fx.RequireDeterministic(t)
}

// requireNoRaw fails if any raw value is in the raft log or the state.
func requireNoRaw(t *testing.T, fx *fixture, raws ...string) {
	t.Helper()
	var blobs []string
	fx.State.Scan(nil, func(k, v []byte) error {
		blobs = append(blobs, string(k)+"="+string(v))
		return nil
	})
	logs := fx.DB.LogStore()
	first, _ := logs.FirstIndex()
	last, _ := logs.LastIndex()
	for i := first; i <= last; i++ {
		var l raft.Log
		if err := logs.GetLog(i, &l); err == nil {
			blobs = append(blobs, string(l.Data))
		}
	}
	if len(blobs) < 5 {
		t.Fatalf("scanned only %d blobs", len(blobs))
	}
	for _, raw := range raws {
		for _, b := range blobs {
			if strings.Contains(b, raw) {
				t.Fatalf("raw secret %.10q… stored: %.200s", raw, b)
			}
		}
	}
}

func TestSecretsAtRest(t *testing.T) {
	fx := newFixture(t, private)
	own := fx.account(t, "own@example.com")
	fx.create(t, own, "acme")
	ws, err := fx.tenants.WebhookSecret(fx.ctx, as(own), "acme", false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := fx.tenants.CreateHook(fx.ctx, as(own), "acme", "generic", true, false)
	if err != nil {
		t.Fatal(err)
	}
	_, inv, err := fx.tenants.Invite(fx.ctx, as(own), "acme", "new@example.com", Viewer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.tenants.SetAPIToken(fx.ctx, as(own), "acme", "tok-very-secret-1234"); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.tenants.Receive(fx.ctx, c.Hook.ID, c.Secret, "x", time.Now()); err != nil {
		t.Fatal(err)
	}
	requireNoRaw(t, fx, ws, strings.TrimPrefix(ws, WebhookSecretPrefix), c.Secret, strings.TrimPrefix(c.Secret, HookSecretPrefix), inv, strings.TrimPrefix(inv, InviteTokenPrefix), "tok-very-secret-1234")
}
