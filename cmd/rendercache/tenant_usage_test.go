package main

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

// rendercache tenants usage|analytics|bandwidth|logs against a one-node
// cluster that served the tenant three requests.
func TestTenantUsageCLI(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gone" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "hello")
	}))
	defer site.Close()
	cl := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := cl.Client()
	owner, err := op.CreateAccount(ctx, "usage-cli@example.com", "agency")
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.AdminCreateKey(ctx, owner.ID, clientKey("cli"))
	if err != nil {
		t.Fatal(err)
	}
	env := cliEnv{"RENDERCACHE_ENDPOINT": cl.URL(0), "RENDERCACHE_API_KEY": k.Key}
	env.ok(t, nil, "tenants", "create", "shop", "--provider", "generic", "--website-origin", site.URL)
	for _, p := range []string{"/", "/", "/gone?token=secret"} {
		req, _ := http.NewRequestWithContext(ctx, "GET", cl.URL(0)+p, nil)
		req.Host = "shop.tenants.localhost"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// One node: the answering node's own counts are read live.
	var u client.TenantUsage
	env.ok(t, &u, "tenants", "usage", "shop", "--period", "day")
	if u.Period != "day" || u.Current.Requests != 3 || u.Current.Status.S4xx != 1 || u.Current.Website.Requests != 3 {
		t.Fatalf("usage %+v", u)
	}
	var all client.TenantsUsage
	env.ok(t, &all, "tenants", "usage")
	if len(all.Tenants) != 1 || all.Tenants[0].Slug != "shop" || all.Total.Requests != 3 {
		t.Fatalf("all %+v", all)
	}
	var an client.TenantAnalytics
	env.ok(t, &an, "tenants", "analytics", "shop")
	if an.Website.Requests != 3 || len(an.Website.TopPaths) != 2 || an.Website.TopPaths[0] != (client.TrafficPath{Path: "/", Requests: 2}) {
		t.Fatalf("analytics %+v", an)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	var bw client.TenantBandwidth
	env.ok(t, &bw, "tenants", "bandwidth", "shop", "--from", today, "--to", today)
	if len(bw.Points) != 1 || bw.Points[0].Requests != 3 || bw.TotalBytes != bw.Points[0].Bytes || bw.TotalBytes == 0 {
		t.Fatalf("bandwidth %+v", bw)
	}
	var logs client.TenantLogPage
	env.ok(t, &logs, "tenants", "logs", "shop", "--status", "4xx")
	if len(logs.Entries) != 1 || logs.Entries[0].Path != "/gone" || logs.Entries[0].Status != 404 || logs.NextCursor != nil {
		t.Fatalf("logs %+v", logs)
	}
	env.ok(t, &logs, "tenants", "logs", "shop", "--limit", "2")
	if len(logs.Entries) != 2 || logs.NextCursor == nil {
		t.Fatalf("first page %+v", logs)
	}
	env.ok(t, &logs, "tenants", "logs", "shop", "--limit", "2", "--cursor", *logs.NextCursor)
	if len(logs.Entries) != 1 || logs.NextCursor != nil {
		t.Fatalf("second page %+v", logs)
	}
	env.fails(t, exitError, "400", "tenants", "logs", "shop", "--limit", "201")
	env.fails(t, exitError, "400", "tenants", "usage", "shop", "--period", "year")
	env.fails(t, exitError, "404", "tenants", "analytics", "nobody")
}
