package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/client"
	"github.com/rendercache/rendercache/testcluster"
)

// The tenant methods against a real node, whose traffic testcluster
// checks against the contract.
func TestTenantMethods(t *testing.T) {
	cl := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := cl.Client()
	newUser := func(email string) (client.Account, *client.Client) {
		t.Helper()
		acc, err := op.CreateAccount(ctx, email, "pro")
		if err != nil {
			t.Fatal(err)
		}
		k, err := op.AdminCreateKey(ctx, acc.ID, client.NewKey{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.New(client.Options{Endpoints: []string{cl.URL(0)}, APIKey: k.Key})
		if err != nil {
			t.Fatal(err)
		}
		return acc, c
	}
	_, own := newUser("own@tenant.test")
	ed, edc := newUser("ed@tenant.test")
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	ttl := 120
	cr, err := own.CreateTenant(ctx, "acme", client.TenantCMS{Provider: "prismic", Fields: map[string]string{"repo": "acme"}}, client.TenantFields{CacheTTL: &ttl})
	if err != nil || cr.Key != "tenant:acme" || cr.ProxyBase == "" {
		t.Fatalf("create %+v %v", cr, err)
	}
	if slug, ok, err := own.SlugAvailable(ctx, "ACME"); err != nil || ok || slug != "acme" {
		t.Fatalf("available %q %v %v", slug, ok, err)
	}
	if ts, err := own.ListTenants(ctx); err != nil || len(ts) != 1 || ts[0].CacheTTL != 120 {
		t.Fatalf("list %+v %v", ts, err)
	}
	dom := "www.acme.test"
	if tn, err := own.UpdateTenant(ctx, "acme", client.TenantFields{WebsiteDomain: &dom}); err != nil || tn.WebsiteDomain != dom || tn.CMS.Fields["repo"] != "acme" {
		t.Fatalf("update %+v %v", tn, err)
	}
	inv, err := own.InviteTenantMember(ctx, "acme", ed.Email, "editor")
	if err != nil || !strings.HasPrefix(inv.Token, "inv_") {
		t.Fatalf("invite %+v %v", inv, err)
	}
	if slug, role, err := edc.AcceptTenantInvite(ctx, inv.Token); err != nil || slug != "acme" || role != "editor" {
		t.Fatalf("accept %q %q %v", slug, role, err)
	}
	other, err := own.InviteTenantMember(ctx, "acme", "x@tenant.test", "viewer")
	must("invite x", err)
	must("revoke", own.RevokeTenantInvite(ctx, "acme", other.ID))
	if m, err := own.UpdateTenantMemberRole(ctx, "acme", ed.ID, "viewer"); err != nil || m.Role != "viewer" {
		t.Fatalf("role %+v %v", m, err)
	}
	if ms, invs, err := own.TenantMembers(ctx, "acme"); err != nil || len(ms) != 2 || len(invs) != 0 {
		t.Fatalf("members %+v %+v %v", ms, invs, err)
	}
	if _, err := edc.RefreshTenantCache(ctx, "acme", "all"); client.StatusOf(err) != 403 {
		t.Fatalf("viewer refreshes: %v", err)
	}
	must("remove", own.RemoveTenantMember(ctx, "acme", ed.ID))
	if _, err := edc.GetTenant(ctx, "acme"); client.StatusOf(err) != 404 {
		t.Fatalf("removed member reads: %v", err)
	}
	if v, err := own.RefreshTenantCache(ctx, "acme", "html"); err != nil || v.HTMLCacheVersion != 2 {
		t.Fatalf("refresh %+v %v", v, err)
	}
	if po, err := own.SyncTenantEdgeConfig(ctx, "acme"); err != nil || po != "https://www.acme.test" {
		t.Fatalf("edge-config %q %v", po, err)
	}
	s1, err := own.TenantWebhookSecret(ctx, "acme", false)
	must("webhook secret", err)
	if s2, err := own.TenantWebhookSecret(ctx, "acme", true); err != nil || s2 == s1 {
		t.Fatalf("rotate %v", err)
	}
	if c, err := own.SetTenantAPIConfig(ctx, "acme", client.TenantAPIConfig{APIOrigin: "http://127.0.0.1:9", AuthMode: "bearer", CacheTTL: 30}); err != nil || c.AuthMode != "bearer" {
		t.Fatalf("api-config %+v %v", c, err)
	}
	must("api-token", own.SetTenantAPIToken(ctx, "acme", "secret-token"))
	if tn, err := own.GetTenant(ctx, "acme"); err != nil || !tn.API.TokenSet {
		t.Fatalf("token not set: %+v %v", tn.API, err)
	}
	h, err := own.CreateTenantHook(ctx, "acme", "storyblok", true)
	if err != nil || !strings.Contains(h.URL, h.Webhook.ID) || !h.Webhook.RefreshAssets {
		t.Fatalf("hook %+v %v", h, err)
	}
	if hs, err := own.TenantHooks(ctx, "acme"); err != nil || len(hs) != 1 {
		t.Fatalf("hooks %+v %v", hs, err)
	}
	if r, err := own.RegenerateTenantHook(ctx, "acme", h.Webhook.ID); err != nil || r.Secret == h.Secret {
		t.Fatalf("regenerate %v", err)
	}
	if evs, err := own.TenantHookEvents(ctx, "acme", h.Webhook.ID); err != nil || len(evs) != 0 {
		t.Fatalf("events %+v %v", evs, err)
	}
	must("delete hook", own.DeleteTenantHook(ctx, "acme", h.Webhook.ID))
	evs, more, err := own.TenantAudit(ctx, "acme", 5, 0)
	if err != nil || len(evs) != 5 || !more {
		t.Fatalf("audit %d %v %v", len(evs), more, err)
	}
	if older, _, err := own.TenantAudit(ctx, "acme", 5, evs[4].ID); err != nil || len(older) == 0 || older[0].ID >= evs[4].ID {
		t.Fatalf("older page %+v %v", older, err)
	}
	if ts, err := op.ListTenants(ctx); err != nil || len(ts) != 1 {
		t.Fatalf("operator lists %+v %v", ts, err)
	}
	must("delete", own.DeleteTenant(ctx, "acme"))
	if _, err := own.GetTenant(ctx, "acme"); client.StatusOf(err) != 404 {
		t.Fatalf("deleted: %v", err)
	}
}
