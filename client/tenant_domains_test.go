package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/client"
	"github.com/rendercache/rendercache/internal/dnstest"
	"github.com/rendercache/rendercache/testcluster"
)

// The custom-domain methods against a real node (whose traffic
// testcluster checks against the contract) and a real DNS server.
func TestTenantDomainMethods(t *testing.T) {
	dns := dnstest.Start(t)
	cl := testcluster.New(t, 1, testcluster.Options{DNSResolver: dns.Addr})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := cl.Client()
	acc, err := op.CreateAccount(ctx, "domains@tenant.test", "pro")
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
	if _, err := c.CreateTenant(ctx, "acme", client.TenantCMS{Provider: "generic"}, client.TenantFields{}); err != nil {
		t.Fatal(err)
	}

	d, err := c.AddTenantDomain(ctx, "acme", "WWW.Acme.org")
	if err != nil || d.Hostname != "www.acme.org" || d.Status != "pending" || d.Verification.Name != "_rendercache-verify.www.acme.org" || d.Verification.Value == "" {
		t.Fatalf("add %+v %v", d, err)
	}
	if _, err := c.AddTenantDomain(ctx, "acme", "www.acme.org"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("add twice: %v", err)
	}
	if _, err := c.AddTenantDomain(ctx, "acme", "not a host"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("add a bad hostname: %v", err)
	}
	if v, err := c.VerifyTenantDomain(ctx, "acme", ""); err != nil || v.Status != "pending" || !strings.Contains(v.Reason, "NXDOMAIN") {
		t.Fatalf("verify unpublished %+v %v", v, err)
	}
	dns.SetTXT(d.Verification.Name, d.Verification.Value)
	if v, err := c.VerifyTenantDomain(ctx, "acme", "www.acme.org"); err != nil || v.Status != "active" || v.VerifiedAt == nil {
		t.Fatalf("verify %+v %v", v, err)
	}
	if ds, err := c.TenantDomains(ctx, "acme"); err != nil || len(ds) != 1 || ds[0].Status != "active" {
		t.Fatalf("list %+v %v", ds, err)
	}
	if err := c.RemoveTenantDomain(ctx, "acme", "www.acme.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveTenantDomain(ctx, "acme", "www.acme.org"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("remove twice: %v", err)
	}
	if ds, err := c.TenantDomains(ctx, "acme"); err != nil || len(ds) != 0 {
		t.Fatalf("list after remove %+v %v", ds, err)
	}
}
