package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rendercache/rendercache/client"
	"github.com/rendercache/rendercache/testcluster"
)

// The check methods against a real node, whose answers testcluster
// checks against the contract.
func TestTenantCheckMethods(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><html data-wf-site="x"><body><img src="https://images.ctfassets.net/sp/a.jpg"></body></html>`)
	}))
	t.Cleanup(site.Close)
	cl := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := cl.Client()
	acc, err := op.CreateAccount(ctx, "checks@client.test", "pro")
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
	if _, err := c.CreateTenant(ctx, "acme", client.TenantCMS{Provider: "contentful"}, client.TenantFields{WebsiteOrigin: &site.URL}); err != nil {
		t.Fatal(err)
	}
	r, err := c.TenantCachelyCheck(ctx, "acme")
	if err != nil || r.State != "implemented" || r.SurfaceLabel == nil || *r.SurfaceLabel != "preview" || len(r.Probes) != 2 || len(r.Items) == 0 {
		t.Fatalf("cachely check %+v %v", r, err)
	}
	w, err := c.TenantWebsiteCheck(ctx, "acme", site.URL)
	if err != nil || !w.OK || w.Platform != "webflow" || w.Analysis.VerdictState != "not_using" || w.Analysis.DirectCMSSignals[0].Context != "img" {
		t.Fatalf("website check %+v %v", w, err)
	}
	w, err = c.TenantWebsiteCheck(ctx, "acme", "https://acme.tenants.localhost/")
	if err != nil || w.OK || w.Error != "product_domain" {
		t.Fatalf("product domain %+v %v", w, err)
	}
	if _, err := c.TenantWebsiteCheck(ctx, "acme", ""); client.StatusOf(err) != 400 {
		t.Fatalf("empty url: %v", err)
	}
	if _, err := c.TenantCachelyCheck(ctx, "nope"); client.StatusOf(err) != 404 {
		t.Fatalf("unknown tenant: %v", err)
	}
}
