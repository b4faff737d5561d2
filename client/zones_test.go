package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/rendercache/rendercache/client"
	"github.com/rendercache/rendercache/testcluster"
)

// The zone methods against a real node, whose traffic testcluster checks
// against the contract.
func TestZoneMethods(t *testing.T) {
	cl := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := cl.Client()
	acc, err := op.CreateAccount(ctx, "z@example.com", "pro")
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.AdminCreateKey(ctx, acc.ID, client.NewKey{Name: "live"})
	if err != nil {
		t.Fatal(err)
	}
	user, err := client.New(client.Options{Endpoints: []string{cl.URL(0)}, APIKey: k.Key})
	if err != nil {
		t.Fatal(err)
	}
	z, err := user.CreateZone(ctx, "my-assets", "http://127.0.0.1:9000")
	if err != nil || z.Subdomain != "my-assets.cdn.localhost" || !z.Active {
		t.Fatalf("create %+v %v", z, err)
	}
	if zs, err := user.ListZones(ctx); err != nil || len(zs) != 1 || zs[0] != z {
		t.Fatalf("list %+v %v", zs, err)
	}
	off := false
	if got, err := user.UpdateZone(ctx, z.ID, client.ZonePatch{Active: &off}); err != nil || got.Active {
		t.Fatalf("update %+v %v", got, err)
	}
	if got, err := user.GetZone(ctx, z.ID); err != nil || got.Active {
		t.Fatalf("get %+v %v", got, err)
	}
	for _, p := range []client.ZonePurge{{}, {Path: "/a.css"}, {Path: "/assets/*"}, {Tag: "t", Soft: true}} {
		if r, err := user.PurgeZone(ctx, z.ID, p); err != nil || !r.Purged || r.Nodes != 1 {
			t.Fatalf("purge %+v: %+v %v", p, r, err)
		}
	}
	if u, err := user.ZoneUsage(ctx); err != nil || u.PeriodStart == "" {
		t.Fatalf("usage %+v %v", u, err)
	}
	if err := user.DeleteZone(ctx, z.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := user.GetZone(ctx, z.ID); client.StatusOf(err) != 404 {
		t.Fatalf("deleted zone: %v", err)
	}
}
