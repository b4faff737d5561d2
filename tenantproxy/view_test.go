package tenantproxy

import (
	"context"
	"testing"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/consensus/consensustest"
	"github.com/rendercache/rendercache/internal/dnstest"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/tenant"
)

// The view finds a tenant by its slug host and by its active custom
// domains only, follows every applied change, and answers a known host
// without allocating.
func TestViewHosts(t *testing.T) {
	node := consensustest.Start(t, func(fsm *consensus.FSM) {
		account.Register(fsm, tenant.ForAccount)
		tenant.Register(fsm)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dns := dnstest.Start(t)
	tenants := tenant.NewService(node.Raft, node.State, tenant.Options{TenantDomain: "tenants.test", Resolver: tenant.NewResolver(dns.Addr)})
	acct, err := account.NewService(node.Raft, node.State, plan.Defaults()).Create(ctx, "v@example.com", "pro")
	if err != nil {
		t.Fatal(err)
	}
	owner := tenant.Actor{AccountID: acct.ID}
	if _, err := tenants.Create(ctx, acct, plan.Plan{Tenants: 1}, "acme", tenant.CMS{Provider: "generic"}, tenant.Patch{}); err != nil {
		t.Fatal(err)
	}
	s := &Surface{cfg: Config{TenantDomain: "tenants.test"}, suffix: ".tenants.test"}
	s.view = newView(node.State, node.State.AppliedIndex)
	has := func(host string) bool {
		st, ok := s.view.site(s, host)
		return ok && st.t.Slug == "acme"
	}
	if !has("acme.tenants.test") || has("nope.tenants.test") || has("x.acme.tenants.test") || has("tenants.test") {
		t.Fatal("slug hosts")
	}
	d, err := tenants.AddDomain(ctx, owner, "acme", "cdn.acme.com")
	if err != nil {
		t.Fatal(err)
	}
	if has("cdn.acme.com") {
		t.Fatal("a pending domain is served")
	}
	dns.SetTXT(d.Verification.Name, d.Verification.Value)
	if d, err := tenants.VerifyDomain(ctx, owner, "acme", ""); err != nil || d.Status != tenant.DomainActive {
		t.Fatalf("verify %+v %v", d, err)
	}
	if !has("cdn.acme.com") || has("www.acme.com") {
		t.Fatal("active domain")
	}
	if n := testing.AllocsPerRun(100, func() { has("cdn.acme.com"); has("acme.tenants.test"); has("unknown.example.org") }); n != 0 {
		t.Fatalf("%v allocations per lookup of known hosts", n)
	}
	if err := tenants.RemoveDomain(ctx, owner, "acme", "cdn.acme.com"); err != nil {
		t.Fatal(err)
	}
	if has("cdn.acme.com") {
		t.Fatal("a removed domain is served")
	}
}
