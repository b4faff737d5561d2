package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// rendercache tenants check and site-check against a one-node cluster.
func TestTenantChecksCLI(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><html><body><div id="__next"></div><script src="/~api/sdk.js"></script></body></html>`)
	}))
	t.Cleanup(site.Close)
	cl := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := cl.Client()
	owner, err := op.CreateAccount(ctx, "checks-owner@example.com", "pro")
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.AdminCreateKey(ctx, owner.ID, clientKey("cli"))
	if err != nil {
		t.Fatal(err)
	}
	env := cliEnv{"RENDERCACHE_ENDPOINT": cl.URL(0), "RENDERCACHE_API_KEY": k.Key}
	env.ok(t, nil, "tenants", "create", "acme", "--provider", "sanity", "--website-origin", site.URL)

	var rep struct {
		State        string
		SurfaceLabel string
		Probes       []struct{ Cache string }
	}
	env.ok(t, &rep, "tenants", "check", "acme")
	if rep.State != "active_needs_attention" || rep.SurfaceLabel != "preview" || len(rep.Probes) != 2 || rep.Probes[1].Cache != "BYPASS" {
		t.Fatalf("check %+v", rep)
	}
	code, out, errOut := env.run(t, "tenants", "check", "acme")
	if code != 0 || !strings.Contains(out, "active_needs_attention") || !strings.Contains(out, "no-store") || !strings.Contains(out, "BYPASS") {
		t.Fatalf("check table: exit %d\n%s%s", code, out, errOut)
	}

	var sc struct {
		OK       bool
		Platform string
		Analysis struct{ VerdictState, CMSLabel string }
	}
	env.ok(t, &sc, "tenants", "site-check", "acme", site.URL)
	if !sc.OK || sc.Platform != "nextjs" || sc.Analysis.VerdictState != "implemented" || sc.Analysis.CMSLabel != "Sanity" {
		t.Fatalf("site-check %+v", sc)
	}
	code, out, errOut = env.run(t, "tenants", "site-check", "acme", "https://acme.tenants.localhost")
	if code != 0 || !strings.Contains(out, "product_domain") {
		t.Fatalf("site-check of a product host: exit %d\n%s%s", code, out, errOut)
	}
	env.fails(t, exitError, "404", "tenants", "check", "nope")
	env.fails(t, exitUsage, "needs <slug> <url>", "tenants", "site-check", "acme")
}
