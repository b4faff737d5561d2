package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/dnstest"
	"github.com/rendercache/rendercache/testcluster"
)

// rendercache tenants domains, command by command, against a one-node
// cluster whose resolver is a DNS server on 127.0.0.1.
func TestTenantDomainsCLI(t *testing.T) {
	dns := dnstest.Start(t)
	cl := testcluster.New(t, 1, testcluster.Options{DNSResolver: dns.Addr})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := cl.Client()
	owner, err := op.CreateAccount(ctx, "domains-owner@example.com", "pro")
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.AdminCreateKey(ctx, owner.ID, clientKey("cli"))
	if err != nil {
		t.Fatal(err)
	}
	env := cliEnv{"RENDERCACHE_ENDPOINT": cl.URL(0), "RENDERCACHE_API_KEY": k.Key}
	env.ok(t, nil, "tenants", "create", "acme", "--provider", "generic")

	type domain struct {
		Hostname, Status, Reason string
		Verification             struct{ Name, Value string }
	}
	var d domain
	env.ok(t, &d, "tenants", "domains", "add", "acme", "shop.acme.net")
	if d.Status != "pending" || d.Verification.Name != "_rendercache-verify.shop.acme.net" {
		t.Fatalf("add %+v", d)
	}
	env.fails(t, exitError, "409", "tenants", "domains", "add", "acme", "shop.acme.net")
	env.fails(t, exitError, "400", "tenants", "domains", "add", "acme", "https://shop.acme.net/")
	env.fails(t, exitUsage, "", "tenants", "domains", "add", "acme")

	var v domain
	env.ok(t, &v, "tenants", "domains", "verify", "acme")
	if v.Status != "pending" || !strings.Contains(v.Reason, "NXDOMAIN") {
		t.Fatalf("verify unpublished %+v", v)
	}
	dns.SetTXT(d.Verification.Name, d.Verification.Value)
	env.ok(t, &v, "tenants", "domains", "verify", "acme", "shop.acme.net")
	if v.Status != "active" {
		t.Fatalf("verify %+v", v)
	}
	var list []domain
	env.ok(t, &list, "tenants", "domains", "list", "acme")
	if len(list) != 1 || list[0].Hostname != "shop.acme.net" || list[0].Status != "active" {
		t.Fatalf("list %+v", list)
	}
	code, out, _ := env.run(t, "tenants", "domains", "list", "acme")
	if code != 0 || !strings.Contains(out, "shop.acme.net") || !strings.Contains(out, "active") {
		t.Fatalf("list table: exit %d\n%s", code, out)
	}
	env.ok(t, nil, "tenants", "domains", "rm", "acme", "shop.acme.net")
	env.fails(t, exitError, "404", "tenants", "domains", "rm", "acme", "shop.acme.net")
	env.ok(t, &list, "tenants", "domains", "list", "acme")
	if len(list) != 0 {
		t.Fatalf("list after rm %+v", list)
	}
}
