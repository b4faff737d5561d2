package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// freePort returns a loopback address whose TCP and UDP ports are free.
func freePort(t *testing.T) string {
	t.Helper()
	addr, err := testcluster.FreeAddr(true)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

type proc struct {
	name, http, gossip string
	cmd                *exec.Cmd
}

// TestProcessesSurviveKill9 builds the real binary, runs three `rendercache
// serve` processes on 127.0.0.1, SIGKILLs the leader and writes through the
// survivors.
func TestProcessesSurviveKill9(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "rendercache")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	key := newClusterKey()
	const token = "rk_admin_processtesttoken0000000000000000"

	procs := make([]*proc, 3)
	for i := range procs {
		p := &proc{name: fmt.Sprintf("p%d", i+1), http: freePort(t), gossip: freePort(t)}
		args := []string{"serve",
			"--name", p.name,
			"--data-dir", filepath.Join(dir, p.name),
			"--http-addr", p.http,
			"--internal-addr", freePort(t),
			"--raft-addr", freePort(t),
			"--gossip-addr", p.gossip,
			"--admin-token", token,
			"--dead-node-timeout", "1m",
			"--log-level", "warn",
		}
		if i > 0 {
			args = append(args, "--join", procs[0].gossip)
		}
		p.cmd = exec.Command(bin, args...)
		// The key comes from the environment, as in a container.
		p.cmd.Env = append(os.Environ(), "RENDERCACHE_CLUSTER_KEY="+key)
		logf, _ := os.Create(filepath.Join(dir, p.name+".log"))
		p.cmd.Stdout, p.cmd.Stderr = logf, logf
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = p
		t.Cleanup(func() {
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()
			logf.Close()
			if t.Failed() {
				dumpLog(t, logf.Name())
			}
		})
	}
	url := func(p *proc) string { return "http://" + p.http }
	auth := "Bearer " + token

	// Wait until all three are voters of one cluster.
	leader := ""
	waitFor(t, ctx, "3 voters", func() bool {
		resp, err := testcluster.Do(ctx, url(procs[2]), "GET", "/admin/cluster", auth, nil)
		if err != nil || resp.Status != 200 {
			return false
		}
		var info struct {
			Leader string
			Nodes  []struct{ Name, Suffrage string }
		}
		resp.Decode(&info)
		voters := 0
		for _, n := range info.Nodes {
			if n.Suffrage == "voter" {
				voters++
			}
		}
		leader = info.Leader
		return voters == 3 && leader != ""
	})

	resp, err := testcluster.Do(ctx, url(procs[1]), "POST", "/admin/accounts", auth, map[string]string{"email": "before@example.com", "plan": "free"})
	if err != nil || resp.Status != 201 {
		t.Fatalf("write before kill: %v %v", resp, err)
	}

	// kill -9 the leader.
	var victim *proc
	var survivors []*proc
	for _, p := range procs {
		if p.name == leader {
			victim = p
		} else {
			survivors = append(survivors, p)
		}
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.cmd.Wait()

	// Writes through each survivor succeed once a new leader is elected.
	for i, p := range survivors {
		email := fmt.Sprintf("after%d@example.com", i)
		var id string
		waitFor(t, ctx, "write through "+p.name, func() bool {
			resp, err := testcluster.Do(ctx, url(p), "POST", "/admin/accounts", auth, map[string]string{"email": email, "plan": "free"})
			if err == nil && resp.Status == 201 {
				id = resp.JSON()["id"].(string)
				return true
			}
			return false
		})
		for _, q := range survivors {
			resp, err := testcluster.Do(ctx, url(q), "GET", "/admin/accounts/"+id, auth, nil)
			if err != nil || resp.Status != 200 {
				t.Fatalf("%s cannot read %s written via %s: %v %v", q.name, id, p.name, resp, err)
			}
		}
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func dumpLog(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	var lines []string
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	t.Logf("%s:\n%s", filepath.Base(path), strings.Join(lines, "\n"))
}
