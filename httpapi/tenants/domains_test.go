package tenants_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/dnstest"
	"github.com/rendercache/rendercache/testcluster"
)

// TestTenantDomains runs custom domains end to end on a 3-node cluster,
// through followers, under the contract check, with a real DNS server on
// 127.0.0.1 as every node's --dns-resolver: pending → TXT published →
// verify → active → served by every node as the tenant's host → removed
// → no node serves it.
func TestTenantDomains(t *testing.T) {
	dns := dnstest.Start(t)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "acme site %s", r.URL.Path)
	}))
	t.Cleanup(site.Close)
	c := testcluster.New(t, 3, testcluster.Options{
		DNSResolver: dns.Addr,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	l, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, c: c, ctx: ctx, f: (l + 1) % 3, g: (l + 2) % 3}
	own := fx.account(t, "owner@domains.test", "pro")
	rival := fx.account(t, "rival@domains.test", "pro")
	f, g := fx.f, fx.g
	want(t, fx.do(t, f, own, "POST", "/api/tenants", map[string]any{"slug": "acme", "cms": map[string]any{"provider": "generic"}, "websiteOrigin": site.URL}), 201, "create acme")
	want(t, fx.do(t, g, rival, "POST", "/api/tenants", map[string]any{"slug": "bolt", "cms": map[string]any{"provider": "generic"}}), 201, "create bolt")
	if err := c.WaitRing(ctx); err != nil {
		t.Fatal(err)
	}

	list := want(t, fx.do(t, f, own, "GET", "/api/tenants/acme/domains", nil), 200, "list none")
	if ds := list["domains"].([]any); len(ds) != 0 {
		t.Fatalf("domains of a new tenant: %v", ds)
	}
	for _, body := range []any{
		map[string]any{}, map[string]any{"hostname": ""}, map[string]any{"hostname": "https://cdn.acme.com"},
		map[string]any{"hostname": "192.0.2.7"}, map[string]any{"hostname": "cdn_acme.com"},
		map[string]any{"hostname": "localhost"}, map[string]any{"hostname": "shop.invalid"},
		map[string]any{"hostname": "acme.tenants.localhost"}, map[string]any{"hostname": "x.cdn.localhost"},
		map[string]any{"hostname": strings.Repeat("a.", 120) + "com"}, map[string]any{"hostname": 7},
		map[string]any{"hostname": "cdn.acme.com", "extra": 1}, "not json",
	} {
		want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/domains", body), 400, fmt.Sprintf("add %v", body))
	}

	d := want(t, fx.do(t, f, own, "POST", "/api/tenants/acme/domains", map[string]string{"hostname": "CDN.Acme.com"}), 201, "add")
	txt := d["verification"].(map[string]any)
	name, value := txt["name"].(string), txt["value"].(string)
	if d["hostname"] != "cdn.acme.com" || d["status"] != "pending" || txt["type"] != "TXT" || name != "_rendercache-verify.cdn.acme.com" || !strings.HasPrefix(value, "rendercache-verify=") {
		t.Fatalf("added %v", d)
	}
	want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/domains", map[string]string{"hostname": "cdn.acme.com"}), 409, "add twice")
	want(t, fx.do(t, g, rival, "POST", "/api/tenants/bolt/domains", map[string]string{"hostname": "cdn.acme.com"}), 409, "another tenant adds it")
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/tenants/acme/domains"}, {"DELETE", "/api/tenants/acme/domains?hostname=cdn.acme.com"},
		{"POST", "/api/tenants/acme/domains/verify?hostname=cdn.acme.com"},
	} {
		want(t, fx.do(t, g, rival, r.method, r.path, nil), 404, "rival "+r.method+" "+r.path)
	}
	want(t, fx.do(t, g, rival, "POST", "/api/tenants/acme/domains", map[string]string{"hostname": "www.acme.com"}), 404, "rival adds to acme")
	fx.served(t, "cdn.acme.com", false, "pending")

	v := want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/domains/verify", nil), 200, "verify before publishing")
	if v["status"] != "pending" || !strings.Contains(v["reason"].(string), "NXDOMAIN") {
		t.Fatalf("verify before publishing: %v", v)
	}
	dns.SetTXT(name, "some-other-value")
	v = want(t, fx.do(t, f, own, "POST", "/api/tenants/acme/domains/verify", map[string]string{"hostname": "cdn.acme.com"}), 200, "verify a wrong value")
	if v["status"] != "pending" || !strings.Contains(v["reason"].(string), "no matching value") {
		t.Fatalf("verify a wrong value: %v", v)
	}
	fx.served(t, "cdn.acme.com", false, "still pending")

	dns.SetTXT(name, "some-other-value", value)
	v = want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/domains/verify?hostname=cdn.acme.com", nil), 200, "verify")
	if v["status"] != "active" || v["verifiedAt"] == nil || v["reason"] != nil {
		t.Fatalf("verify: %v", v)
	}
	list = want(t, fx.do(t, f, own, "GET", "/api/tenants/acme/domains", nil), 200, "list")
	if ds := list["domains"].([]any); len(ds) != 1 || ds[0].(map[string]any)["status"] != "active" {
		t.Fatalf("list: %v", ds)
	}
	fx.served(t, "cdn.acme.com", true, "active")
	fx.served(t, "acme.tenants.localhost", true, "the slug host")

	want(t, fx.do(t, f, own, "DELETE", "/api/tenants/acme/domains", nil), 400, "delete without a hostname")
	want(t, fx.do(t, f, own, "DELETE", "/api/tenants/acme/domains?hostname=a.acme.com", map[string]string{"hostname": "cdn.acme.com"}), 400, "delete: body and query differ")
	want(t, fx.do(t, f, own, "DELETE", "/api/tenants/acme/domains", map[string]string{"hostname": "nope.acme.com"}), 404, "delete an unknown domain")
	ok := want(t, fx.do(t, g, own, "DELETE", "/api/tenants/acme/domains", map[string]string{"hostname": "cdn.acme.com"}), 200, "delete")
	if ok["ok"] != true {
		t.Fatalf("delete: %v", ok)
	}
	fx.served(t, "cdn.acme.com", false, "removed")
	want(t, fx.do(t, f, own, "DELETE", "/api/tenants/acme/domains?hostname=cdn.acme.com", nil), 404, "delete twice")
	want(t, fx.do(t, f, own, "POST", "/api/tenants/acme/domains/verify", nil), 404, "verify with no domains")
	// The hostname is free again, for any tenant.
	want(t, fx.do(t, f, rival, "POST", "/api/tenants/bolt/domains", map[string]string{"hostname": "cdn.acme.com"}), 201, "rival adds the freed hostname")
}

// served checks that every node serves host as acme's website (a page
// from acme's origin), or that none does (404).
func (fx *fixture) served(t *testing.T, host string, yes bool, what string) {
	t.Helper()
	for i := range 3 {
		req, err := http.NewRequestWithContext(fx.ctx, "GET", fx.c.URL(i)+"/docs/page", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: node %d: %v", what, i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case yes && (resp.StatusCode != 200 || string(body) != "acme site /docs/page" || resp.Header.Get("X-Cachely-Cache") == ""):
			t.Fatalf("%s: node %d answered %s %d %q (x-cachely-cache %q), want acme's page", what, i, host, resp.StatusCode, body, resp.Header.Get("X-Cachely-Cache"))
		case !yes && resp.StatusCode != 404:
			t.Fatalf("%s: node %d answered %s %d %q, want 404", what, i, host, resp.StatusCode, body)
		}
	}
}
