package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// rendercache zones, command by command, against a one-node cluster.
func TestZonesCLI(t *testing.T) {
	cl := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := cl.Client()
	acc, err := op.CreateAccount(ctx, "zones@example.com", "pro")
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.AdminCreateKey(ctx, acc.ID, clientKey("cli"))
	if err != nil {
		t.Fatal(err)
	}
	env := cliEnv{"RENDERCACHE_ENDPOINT": cl.URL(0), "RENDERCACHE_API_KEY": k.Key}

	var z struct{ ID, Name, Subdomain, Origin string }
	env.ok(t, &z, "zones", "create", "my-assets", "--origin", "http://127.0.0.1:9000")
	if !strings.HasPrefix(z.ID, "zone_") || z.Subdomain != "my-assets.cdn.localhost" {
		t.Fatalf("created %+v", z)
	}
	env.fails(t, exitUsage, "--origin is required", "zones", "create", "other")
	env.fails(t, exitError, "409", "zones", "create", "my-assets", "--origin", "http://127.0.0.1:9000")
	var list []struct{ ID string }
	env.ok(t, &list, "zones", "list")
	if len(list) != 1 || list[0].ID != z.ID {
		t.Fatalf("list %+v", list)
	}
	var got struct{ Active bool }
	env.ok(t, &got, "zones", "set", z.ID, "--active=false")
	if got.Active {
		t.Fatal("zones set --active=false left it active")
	}
	env.ok(t, &got, "zones", "get", z.ID)
	if got.Active {
		t.Fatal("zones get: still active")
	}
	var purged struct {
		Purged bool
		Nodes  int
	}
	for _, args := range [][]string{{}, {"--path", "/assets/*"}, {"--tag", "t1", "--soft"}} {
		env.ok(t, &purged, append([]string{"zones", "purge", z.ID}, args...)...)
		if !purged.Purged || purged.Nodes != 1 {
			t.Fatalf("purge %v: %+v", args, purged)
		}
	}
	var u struct {
		PeriodStart string `json:"period_start"`
	}
	env.ok(t, &u, "zones", "usage")
	if u.PeriodStart == "" {
		t.Fatalf("usage %+v", u)
	}
	env.ok(t, nil, "zones", "rm", z.ID)
	env.fails(t, exitError, "404", "zones", "get", z.ID)
}
