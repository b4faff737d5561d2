package tenant

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/dnstest"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/origin"
)

// domainFixture is the tenant fixture with a service whose resolver is a
// real DNS server on 127.0.0.1.
type domainFixture struct {
	*fixture
	dns *dnstest.Server
	svc *Service
}

func newDomainFixture(t *testing.T, policy origin.Policy) *domainFixture {
	t.Helper()
	fx := newFixture(t, policy)
	srv := dnstest.Start(t)
	svc := NewService(fx.Raft, fx.State, Options{Policy: policy, Box: fx.tenants.box, TenantDomain: "tenants.test",
		Resolver: NewResolver(srv.Addr), ProductDomains: []string{"cdn.test", "api.rendercache.example"}})
	return &domainFixture{fixture: fx, dns: srv, svc: svc}
}

func (fx *domainFixture) add(t *testing.T, actor Actor, slug, host string) Domain {
	t.Helper()
	d, err := fx.svc.AddDomain(fx.ctx, actor, slug, host)
	if err != nil {
		t.Fatalf("add %s to %s: %v", host, slug, err)
	}
	return d
}

func TestAddDomainRefusesBadHostnames(t *testing.T) {
	fx := newDomainFixture(t, origin.Policy{})
	a := fx.account(t, "a@example.com")
	fx.create(t, a, "acme")
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 50) + ".com"
	for _, tc := range []struct{ name, host string }{
		{"empty", ""},
		{"scheme", "https://cdn.acme.com"},
		{"path", "cdn.acme.com/x"},
		{"port", "cdn.acme.com:443"},
		{"ip", "192.0.2.1"},
		{"single label", "localhost"},
		{"wildcard", "*.acme.com"},
		{"underscore", "_x.acme.com"},
		{"special use", "shop.localhost"},
		{"test tld under a strict policy", "shop.test"},
		{"too long for its TXT name", long},
		{"the tenant domain", "tenants.test"},
		{"under the tenant domain", "acme.tenants.test"},
		{"the cdn domain", "CDN.test."},
		{"under the public url's host", "x.api.rendercache.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fx.svc.AddDomain(fx.ctx, as(a), "acme", tc.host)
			wantKind(t, tc.host, err, errkind.Invalid)
		})
	}
	ds, err := fx.svc.Domains(fx.ctx, as(a), "acme")
	if err != nil || len(ds) != 0 {
		t.Fatalf("domains after refusals: %+v %v", ds, err)
	}
}

func TestDomainLifecycle(t *testing.T) {
	fx := newDomainFixture(t, origin.Policy{})
	a := fx.account(t, "a@example.com")
	v := fx.account(t, "v@example.com")
	out := fx.account(t, "out@example.com")
	fx.create(t, a, "acme")
	fx.member(t, as(a), "acme", v, Viewer)

	d := fx.add(t, as(a), "acme", "CDN.Acme.com")
	if d.Hostname != "cdn.acme.com" || d.Status != DomainPending || d.Verification.Type != "TXT" ||
		d.Verification.Name != "_rendercache-verify.cdn.acme.com" || !strings.HasPrefix(d.Verification.Value, VerifyValuePrefix) ||
		len(d.Verification.Value) != len(VerifyValuePrefix)+32 || d.VerifiedAt != nil {
		t.Fatalf("added %+v", d)
	}
	if ds, err := fx.svc.Domains(fx.ctx, as(v), "acme"); err != nil || len(ds) != 1 || ds[0] != d {
		t.Fatalf("viewer lists %+v %v", ds, err)
	}
	_, err := fx.svc.AddDomain(fx.ctx, as(v), "acme", "www.acme.com")
	wantKind(t, "viewer adds", err, errkind.Forbidden)
	_, err = fx.svc.VerifyDomain(fx.ctx, as(v), "acme", "cdn.acme.com")
	wantKind(t, "viewer verifies", err, errkind.Forbidden)
	wantKind(t, "viewer removes", fx.svc.RemoveDomain(fx.ctx, as(v), "acme", "cdn.acme.com"), errkind.Forbidden)
	_, err = fx.svc.Domains(fx.ctx, as(out), "acme")
	wantKind(t, "non-member lists", err, errkind.NotFound)
	_, err = fx.svc.VerifyDomain(fx.ctx, as(out), "acme", "cdn.acme.com")
	wantKind(t, "non-member verifies", err, errkind.NotFound)
	if _, err := ActiveHost(fx.State, "cdn.acme.com"); err != ErrDomainNotFound {
		t.Fatalf("pending host is served: %v", err)
	}

	// Each way of not finding the value leaves it pending, with why.
	name := d.Verification.Name
	for _, tc := range []struct {
		name    string
		publish func()
		reason  string
	}{
		{"nxdomain", func() { fx.dns.Remove(name) }, "NXDOMAIN"},
		{"no txt", func() { fx.dns.SetTXT(name) }, "no TXT record at " + name},
		{"other value", func() { fx.dns.SetTXT(name, "v=spf1 -all", VerifyValuePrefix+"0123") }, "no matching value: the 2 TXT value(s)"},
		{"servfail", func() { fx.dns.Fail(name, dns.RcodeServerFailure) }, "the resolver answered SERVFAIL"},
		{"timeout", func() { fx.dns.Fail(name, dnstest.Silent) }, "the resolver timed out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.publish()
			got, err := fx.svc.VerifyDomain(fx.ctx, as(a), "acme", "cdn.acme.com")
			if err != nil || got.Status != DomainPending || !strings.Contains(got.Reason, tc.reason) || got.CheckedAt == nil || got.VerifiedAt != nil {
				t.Fatalf("verify: %+v %v, want pending with %q", got, err, tc.reason)
			}
			if strings.Contains(got.Reason, fx.dns.Addr) {
				t.Fatalf("reason names the resolver: %q", got.Reason)
			}
		})
	}
	if _, err := ActiveHost(fx.State, "cdn.acme.com"); err != ErrDomainNotFound {
		t.Fatalf("pending host is served: %v", err)
	}
	if _, ok, err := fx.svc.ActiveDomain("acme"); ok || err != nil {
		t.Fatalf("active domain while pending: %v %v", ok, err)
	}

	fx.dns.SetTXT(name, "v=spf1 -all", d.Verification.Value)
	got, err := fx.svc.VerifyDomain(fx.ctx, as(a), "acme", "") // its only domain
	if err != nil || got.Status != DomainActive || got.Reason != "" || got.VerifiedAt == nil {
		t.Fatalf("verify: %+v %v", got, err)
	}
	if tn, err := ActiveHost(fx.State, "cdn.acme.com"); err != nil || tn.Slug != "acme" {
		t.Fatalf("active host: %+v %v", tn, err)
	}
	if h, ok, err := fx.svc.ActiveDomain("acme"); h != "cdn.acme.com" || !ok || err != nil {
		t.Fatalf("active domain: %q %v %v", h, ok, err)
	}
	// An active domain stays active without another lookup.
	fx.dns.Remove(name)
	queries := fx.dns.Queries(name)
	if again, err := fx.svc.VerifyDomain(fx.ctx, as(a), "acme", "cdn.acme.com"); err != nil || again.Status != DomainActive || fx.dns.Queries(name) != queries {
		t.Fatalf("verify active: %+v %v (queries %d → %d)", again, err, queries, fx.dns.Queries(name))
	}

	if err := fx.svc.RemoveDomain(fx.ctx, as(a), "acme", "cdn.acme.com"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "remove twice", fx.svc.RemoveDomain(fx.ctx, as(a), "acme", "cdn.acme.com"), errkind.NotFound)
	wantKind(t, "remove without hostname", fx.svc.RemoveDomain(fx.ctx, as(a), "acme", " "), errkind.Invalid)
	wantKind(t, "remove a bad hostname", fx.svc.RemoveDomain(fx.ctx, as(a), "acme", "a b"), errkind.Invalid)
	if _, err := ActiveHost(fx.State, "cdn.acme.com"); err != ErrDomainNotFound {
		t.Fatalf("removed host is served: %v", err)
	}
	if _, ok, err := fx.svc.ActiveDomain("acme"); ok || err != nil {
		t.Fatalf("active domain after remove: %v %v", ok, err)
	}
	if _, _, err := fx.svc.ActiveDomain("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("active domain of an unknown tenant: %v", err)
	}

	evs, _, err := fx.svc.Audit(fx.ctx, as(a), "acme", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		if !strings.HasPrefix(e.Action, "domain.") {
			continue
		}
		if e.Action == "domain.verify-failed" && e.Detail["reason"] == "" {
			t.Fatalf("a failed verification without its reason: %+v", e)
		}
		actions = append(actions, e.Action+" "+e.Target)
	}
	// Newest first: the five failed verifications above, one per pending
	// reason, then the one that activated it.
	failed := strings.Repeat("domain.verify-failed cdn.acme.com,", 5)
	if strings.Join(actions, ",") != "domain.remove cdn.acme.com,domain.verify cdn.acme.com,"+failed+"domain.add cdn.acme.com" {
		t.Fatalf("audit: %v", actions)
	}
	fx.RequireDeterministic(t)
}

func TestVerifyPicksTheOnlyDomain(t *testing.T) {
	fx := newDomainFixture(t, origin.Policy{})
	a := fx.account(t, "a@example.com")
	fx.create(t, a, "acme")
	_, err := fx.svc.VerifyDomain(fx.ctx, as(a), "acme", "")
	wantKind(t, "no domains", err, errkind.NotFound)
	fx.add(t, as(a), "acme", "a.acme.com")
	if d, err := fx.svc.VerifyDomain(fx.ctx, as(a), "acme", ""); err != nil || d.Hostname != "a.acme.com" || d.Status != DomainPending {
		t.Fatalf("one domain: %+v %v", d, err)
	}
	fx.add(t, as(a), "acme", "b.acme.com")
	_, err = fx.svc.VerifyDomain(fx.ctx, as(a), "acme", "")
	wantKind(t, "two domains", err, errkind.Invalid)
	_, err = fx.svc.VerifyDomain(fx.ctx, as(a), "acme", "c.acme.com")
	wantKind(t, "unknown domain", err, errkind.NotFound)
	_, err = fx.svc.VerifyDomain(fx.ctx, as(a), "acme", "http://a.acme.com")
	wantKind(t, "malformed hostname", err, errkind.Invalid)
}

func TestHostnamesAreUniqueAcrossTenants(t *testing.T) {
	fx := newDomainFixture(t, origin.Policy{})
	a := fx.account(t, "a@example.com")
	b := fx.account(t, "b@example.com")
	fx.create(t, a, "acme")
	fx.create(t, b, "bolt")
	// Ten racing adds of one hostname by two tenants: exactly one wins.
	const n = 10
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []string
		errs []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actor, slug := as(a), "acme"
			if i%2 == 1 {
				actor, slug = as(b), "bolt"
			}
			_, err := fx.svc.AddDomain(fx.ctx, actor, slug, "shop.example.org")
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won = append(won, slug)
			} else {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 || len(errs) != n-1 {
		t.Fatalf("%d adds won (%v), %d failed", len(won), won, len(errs))
	}
	for _, err := range errs {
		wantKind(t, "losing add", err, errkind.Conflict)
	}
	// The winner adding it again is a conflict too.
	winner, loser := as(a), as(b)
	wslug, lslug := "acme", "bolt"
	if won[0] == "bolt" {
		winner, loser, wslug, lslug = loser, winner, lslug, wslug
	}
	_, err := fx.svc.AddDomain(fx.ctx, winner, wslug, "SHOP.example.org.")
	wantKind(t, "same tenant again", err, errkind.Conflict)
	// The loser cannot remove or verify what it does not have.
	wantKind(t, "loser removes", fx.svc.RemoveDomain(fx.ctx, loser, lslug, "shop.example.org"), errkind.NotFound)

	// Deleting the winning tenant frees the hostname for the other.
	if _, err := fx.svc.Delete(fx.ctx, winner, wslug); err != nil {
		t.Fatal(err)
	}
	d := fx.add(t, loser, lslug, "shop.example.org")
	if d.Status != DomainPending {
		t.Fatalf("re-added %+v", d)
	}
	fx.RequireDeterministic(t)
}

func TestDomainBounds(t *testing.T) {
	fx := newDomainFixture(t, origin.Policy{AllowPrivate: true})
	a := fx.account(t, "a@example.com")
	fx.create(t, a, "acme")
	for i := range MaxDomains {
		fx.add(t, as(a), "acme", "d"+string(rune('a'+i))+".acme.test") // .test is fine with private names allowed
	}
	_, err := fx.svc.AddDomain(fx.ctx, as(a), "acme", "one-more.acme.test")
	wantKind(t, "past MaxDomains", err, errkind.Forbidden)
	if ds, err := fx.svc.Domains(fx.ctx, as(a), "acme"); err != nil || len(ds) != MaxDomains {
		t.Fatalf("domains: %d %v", len(ds), err)
	}
}

// A verification whose domain was removed and added again meanwhile
// (with a new value) must not activate the new record.
func TestVerifyOfAReplacedDomainIsAConflict(t *testing.T) {
	fx := newDomainFixture(t, origin.Policy{})
	a := fx.account(t, "a@example.com")
	fx.create(t, a, "acme")
	old := fx.add(t, as(a), "acme", "cdn.acme.com")
	if err := fx.svc.RemoveDomain(fx.ctx, as(a), "acme", "cdn.acme.com"); err != nil {
		t.Fatal(err)
	}
	cur := fx.add(t, as(a), "acme", "cdn.acme.com")
	if cur.Verification.Value == old.Verification.Value {
		t.Fatal("a re-added domain kept its verification value")
	}
	late := Domain{Hostname: old.Hostname, Status: DomainActive, Verification: old.Verification}
	_, err := consensus.Propose(fx.ctx, fx.Raft, "verify domain", cmdDomainCheck, 1, domainRequest{Actor: as(a), Slug: "acme", Domain: late, At: fx.svc.at()})
	wantKind(t, "stale verification", err, errkind.Conflict)
	if _, err := ActiveHost(fx.State, "cdn.acme.com"); err != ErrDomainNotFound {
		t.Fatalf("stale verification activated the host: %v", err)
	}
}

// The system resolver takes its nameservers from resolv.conf, and a
// value longer than one TXT string (255 bytes), in an answer too large
// for UDP, comes back whole over TCP.
func TestResolver(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver 192.0.2.53\nnameserver 2001:db8::53\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &dnsResolver{conf: conf}
	if ns, err := r.nameservers(); err != nil || strings.Join(ns, ",") != "192.0.2.53:53,[2001:db8::53]:53" {
		t.Fatalf("nameservers %v %v", ns, err)
	}
	if err := os.WriteFile(conf, []byte("# none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := r.LookupTXT(t.Context(), "x.example.com"); err != ErrNoResolver {
		t.Fatalf("no nameserver: %v", err)
	}

	srv := dnstest.Start(t)
	long := strings.Repeat("v", 5000)
	srv.SetTXT("_rendercache-verify.x.example.com", long, "short")
	vals, err := NewResolver(srv.Addr).LookupTXT(t.Context(), "_rendercache-verify.x.example.com")
	if err != nil || len(vals) != 2 || vals[0] != long || vals[1] != "short" {
		t.Fatalf("lookup %d values, %v", len(vals), err)
	}
	if n := srv.Queries("_rendercache-verify.x.example.com"); n != 2 {
		t.Fatalf("%d queries, want one over UDP and one over TCP", n)
	}
}

// Whatever a caller sends as a hostname, what is accepted is a stored
// hostname whose TXT name fits DNS, outside the product's domains.
func FuzzCheckHostname(f *testing.F) {
	for _, s := range []string{"cdn.acme.com", "CDN.Acme.COM.", "xn--bcher-kva.example", "bücher.example", "a.tenants.test", "cdn.test", "x", "1.2.3.4", "a..b", strings.Repeat("a.", 126) + "com"} {
		f.Add(s)
	}
	s := &Service{products: productDomains(Options{TenantDomain: "tenants.test", ProductDomains: []string{"cdn.test", "192.0.2.1"}})}
	f.Fuzz(func(t *testing.T, raw string) {
		h, err := s.checkHostname(raw)
		if err != nil {
			if errkind.KindOf(err) != errkind.Invalid {
				t.Fatalf("checkHostname(%q): %v is not a 400", raw, err)
			}
			return
		}
		if !storedHostname(h) || len(VerifyLabel+"."+h) > 253 {
			t.Fatalf("checkHostname(%q) = %q: not storable", raw, h)
		}
		for _, p := range s.products {
			if h == p || strings.HasSuffix(h, "."+p) {
				t.Fatalf("checkHostname(%q) = %q: under product domain %q", raw, h, p)
			}
		}
	})
}

// A pending claim older than PendingTTL lapses when the hostname is added
// again, by another tenant or the same one; a younger one, or an active
// domain whatever its age, stays taken.
func TestPendingDomainsLapse(t *testing.T) {
	fx := newDomainFixture(t, origin.Policy{})
	a := fx.account(t, "a@example.com")
	b := fx.account(t, "b@example.com")
	fx.create(t, a, "acme")
	fx.create(t, b, "bolt")
	clock := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fx.svc.now = func() time.Time { return clock }

	fx.add(t, as(a), "acme", "squat.example.org")
	clock = clock.Add(PendingTTL)
	_, err := fx.svc.AddDomain(fx.ctx, as(b), "bolt", "squat.example.org")
	wantKind(t, "a claim exactly PendingTTL old", err, errkind.Conflict)

	clock = clock.Add(time.Minute)
	d := fx.add(t, as(b), "bolt", "squat.example.org")
	if d.Status != DomainPending {
		t.Fatalf("taken over: %+v", d)
	}
	if ds, err := fx.svc.Domains(fx.ctx, as(a), "acme"); err != nil || len(ds) != 0 {
		t.Fatalf("the lapsed claim is still the old tenant's: %v %v", ds, err)
	}
	evs, _, err := fx.tenants.Audit(fx.ctx, as(a), "acme", 10, 0)
	if err != nil || len(evs) == 0 || evs[0].Action != "domain.lapse" || evs[0].ActorID != "system" {
		t.Fatalf("audit of the lapse: %+v %v", evs, err)
	}

	// An active domain never lapses.
	fx.dns.SetTXT(VerifyLabel+".squat.example.org", d.Verification.Value)
	if v, err := fx.svc.VerifyDomain(fx.ctx, as(b), "bolt", "squat.example.org"); err != nil || v.Status != DomainActive {
		t.Fatalf("verify: %+v %v", v, err)
	}
	clock = clock.Add(10 * PendingTTL)
	_, err = fx.svc.AddDomain(fx.ctx, as(a), "acme", "squat.example.org")
	wantKind(t, "an old active domain", err, errkind.Conflict)
	fx.RequireDeterministic(t)
}
