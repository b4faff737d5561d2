package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/rendercache/rendercache/operator"
	"github.com/rendercache/rendercache/testcluster"
)

// A lost admin token is replaced cluster-wide by `admin-token reset` on one
// follower's data dir and a restart of that follower: the reset goes
// through raft, so every node ends with the same new hash, the old token
// stops working and the new one works on every node.
func TestAdminTokenResetReplacesTheTokenClusterWide(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	cl := testcluster.New(t, 3, testcluster.Options{Dir: dir})
	old := cl.AdminToken()
	leader := cl.Leader()
	i := (leader + 1) % cl.Size() // a follower
	// Test clusters configure the token on every node; what a reset
	// replaces is the replicated hash, which is what these checks read.
	waitFor(t, ctx, "the bootstrap token's hash on every node", func() bool {
		for j := range cl.Size() {
			if !operator.NewAuth(cl.Node(j).State(), "").Check(old) {
				return false
			}
		}
		return true
	})

	// The operator runs the reset against the follower's data dir (here
	// while it runs) and restarts it.
	dataDir := filepath.Join(dir, cl.Name(i))
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if err := m.Run(ctx, []string{"admin-token", "reset", "--data-dir", dataDir}); err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(operator.TokenPrefix + `[A-Za-z0-9]{32}`).FindString(out.String())
	if token == "" {
		t.Fatalf("no token printed:\n%s", out.String())
	}
	cl.Kill(i)
	if err := cl.Restart(ctx, i); err != nil {
		t.Fatal(err)
	}

	waitFor(t, ctx, "the new hash on every node", func() bool {
		for j := range cl.Size() {
			auth := operator.NewAuth(cl.Node(j).State(), "")
			if auth.Check(old) || !auth.Check(token) {
				return false
			}
		}
		return true
	})
	if _, err := os.Stat(filepath.Join(dataDir, operator.ResetFile)); !os.IsNotExist(err) {
		t.Fatalf("the reset file survived its reset: %v", err)
	}
	for j := range cl.Size() {
		resp, err := testcluster.Do(ctx, cl.URL(j), "GET", "/admin/cluster", "Bearer "+token, nil)
		if err != nil || resp.Status != 200 {
			t.Fatalf("%s refuses the new token: %v %v", cl.Name(j), resp, err)
		}
	}

	// A later restart applies nothing again.
	cl.Kill(i)
	if err := cl.Restart(ctx, i); err != nil {
		t.Fatal(err)
	}
	if err := cl.WaitServers(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if !operator.NewAuth(cl.Node(i).State(), "").Check(token) {
		t.Fatal("the new token stopped working after another restart")
	}
}
