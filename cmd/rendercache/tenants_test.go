package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// rendercache tenants, command by command, against a one-node cluster.
func TestTenantsCLI(t *testing.T) {
	cl := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := cl.Client()
	owner, err := op.CreateAccount(ctx, "tenants-owner@example.com", "pro")
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.AdminCreateKey(ctx, owner.ID, clientKey("cli"))
	if err != nil {
		t.Fatal(err)
	}
	ed, err := op.CreateAccount(ctx, "tenants-editor@example.com", "pro")
	if err != nil {
		t.Fatal(err)
	}
	ek, err := op.AdminCreateKey(ctx, ed.ID, clientKey("cli"))
	if err != nil {
		t.Fatal(err)
	}
	env := cliEnv{"RENDERCACHE_ENDPOINT": cl.URL(0), "RENDERCACHE_API_KEY": k.Key}
	edEnv := cliEnv{"RENDERCACHE_ENDPOINT": cl.URL(0), "RENDERCACHE_API_KEY": ek.Key}
	opEnv := cliEnv{"RENDERCACHE_ENDPOINT": cl.URL(0), "RENDERCACHE_ADMIN_TOKEN": cl.AdminToken()}

	var created struct{ Key, ProxyBase string }
	env.ok(t, &created, "tenants", "create", "acme", "--provider", "contentful", "--field", "spaceId=abc", "--cache-ttl", "300")
	if created.Key != "tenant:acme" {
		t.Fatalf("created %+v", created)
	}
	env.fails(t, exitUsage, "--provider is required", "tenants", "create", "other")
	env.fails(t, exitError, "409", "tenants", "create", "acme", "--provider", "generic")
	var avail struct{ Available bool }
	env.ok(t, &avail, "tenants", "available", "acme")
	if avail.Available {
		t.Fatal("acme available")
	}
	var tn struct {
		CacheTTL      int
		WebsiteDomain string
		CMS           struct{ Fields map[string]string }
	}
	env.ok(t, &tn, "tenants", "set", "acme", "--website-domain", "www.acme.test", "--field", "env=master")
	if tn.WebsiteDomain != "www.acme.test" || tn.CacheTTL != 300 || tn.CMS.Fields["spaceId"] != "abc" || tn.CMS.Fields["env"] != "master" {
		t.Fatalf("set %+v", tn)
	}
	var inv struct {
		ID    int64
		Token string
	}
	env.ok(t, &inv, "tenants", "members", "invite", "acme", ed.Email, "editor")
	edEnv.ok(t, nil, "tenants", "accept", inv.Token)
	var members struct {
		Members []struct{ UserID, Role string }
	}
	edEnv.ok(t, &members, "tenants", "members", "list", "acme")
	if len(members.Members) != 2 {
		t.Fatalf("members %+v", members)
	}
	edEnv.fails(t, exitAuth, "403", "tenants", "members", "invite", "acme", "x@example.com", "viewer")
	env.ok(t, nil, "tenants", "members", "role", "acme", ed.ID, "viewer")
	env.ok(t, &inv, "tenants", "members", "invite", "acme", "x@example.com", "viewer")
	env.ok(t, nil, "tenants", "members", "revoke", "acme", strconv.FormatInt(inv.ID, 10))
	env.fails(t, exitUsage, "not a number", "tenants", "members", "revoke", "acme", "one")
	env.ok(t, nil, "tenants", "members", "rm", "acme", ed.ID)
	edEnv.fails(t, exitError, "404", "tenants", "get", "acme")

	var v struct{ HTMLCacheVersion int }
	env.ok(t, &v, "tenants", "refresh", "acme", "--type", "html")
	if v.HTMLCacheVersion != 2 {
		t.Fatalf("refresh %+v", v)
	}
	var sec struct{ Secret string }
	env.ok(t, &sec, "tenants", "webhook-secret", "acme")
	first := sec.Secret
	env.ok(t, &sec, "tenants", "webhook-secret", "acme", "--rotate")
	if !strings.HasPrefix(first, "whsec_") || sec.Secret == first {
		t.Fatalf("secrets %q %q", first, sec.Secret)
	}
	env.ok(t, nil, "tenants", "edge-sync", "acme")
	var hook struct {
		Webhook struct{ ID string }
		URL     string
	}
	env.ok(t, &hook, "tenants", "webhooks", "create", "acme", "contentful", "--refresh-assets")
	if !strings.Contains(hook.URL, hook.Webhook.ID) {
		t.Fatalf("hook %+v", hook)
	}
	var hooks []struct{ ID string }
	env.ok(t, &hooks, "tenants", "webhooks", "list", "acme")
	if len(hooks) != 1 {
		t.Fatalf("hooks %+v", hooks)
	}
	env.ok(t, nil, "tenants", "webhooks", "regenerate", "acme", hook.Webhook.ID)
	env.ok(t, nil, "tenants", "webhooks", "events", "acme", hook.Webhook.ID)
	env.ok(t, nil, "tenants", "webhooks", "rm", "acme", hook.Webhook.ID)
	var audit struct {
		Events  []struct{ ID uint64 }
		HasMore bool
	}
	env.ok(t, &audit, "tenants", "audit", "acme", "--limit", "3")
	if len(audit.Events) != 3 || !audit.HasMore {
		t.Fatalf("audit %+v", audit)
	}
	var all []struct{ Slug string }
	opEnv.ok(t, &all, "tenants", "list")
	if len(all) != 1 || all[0].Slug != "acme" {
		t.Fatalf("operator list %+v", all)
	}
	env.ok(t, nil, "tenants", "rm", "acme")
	env.fails(t, exitError, "404", "tenants", "get", "acme")
}
