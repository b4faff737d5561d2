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
	args               []string
	cmd                *exec.Cmd
}

// TestProcessesSurviveKill9 builds the real binary, runs three `rendercache
// serve` processes on 127.0.0.1, SIGKILLs the leader and writes through the
// survivors.
func TestProcessesSurviveKill9(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := binary(t)
	// The nodes' temp dirs, where each keeps its browsers' data.
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o700)
	key := newClusterKey()
	const token = "rk_admin_processtesttoken0000000000000000"

	procs := make([]*proc, 3)
	start := func(p *proc, args []string) {
		t.Helper()
		p.cmd = exec.Command(bin, args...)
		// The key comes from the environment, as in a container.
		p.cmd.Env = append(os.Environ(), "RENDERCACHE_CLUSTER_KEY="+key, "TMPDIR="+tmp)
		logf, _ := os.OpenFile(filepath.Join(dir, p.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		p.cmd.Stdout, p.cmd.Stderr = logf, logf
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmd := p.cmd
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
			logf.Close()
			if t.Failed() {
				dumpLog(t, logf.Name())
			}
		})
	}
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
		} else {
			args = append(args, "--allow-private-origins")
		}
		p.args = args
		start(p, args)
		procs[i] = p
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
	// The node that allows private origins said so at start, naming the
	// flag.
	if b, _ := os.ReadFile(filepath.Join(dir, "p1.log")); !strings.Contains(string(b), "level=WARN") || !strings.Contains(string(b), "flag=--allow-private-origins") {
		t.Errorf("p1 started with --allow-private-origins and logged no warning naming it:\n%s", b)
	}
	renderDir := renderDirOf(t, tmp, victim.cmd.Process.Pid)
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.cmd.Wait()
	if _, err := os.Stat(renderDir); err != nil {
		t.Fatalf("the killed node's render dir should still be there until a node starts: %v", err)
	}

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

	// The killed node starts again and removes the render dir its first
	// life left behind; the survivors' dirs stay.
	start(victim, victim.args)
	waitFor(t, ctx, victim.name+" serving again", func() bool {
		resp, err := testcluster.Do(ctx, url(victim), "GET", "/healthz", "", nil)
		return err == nil && resp.Status == 200
	})
	if _, err := os.Stat(renderDir); !os.IsNotExist(err) {
		t.Fatalf("the killed node's render dir %s survived its restart: %v", renderDir, err)
	}
	for _, p := range append(survivors, victim) {
		renderDirOf(t, tmp, p.cmd.Process.Pid)
	}
}

// renderDirOf returns the render dir (in tmp) owned by process pid.
func renderDirOf(t *testing.T, tmp string, pid int) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(tmp, "rendercache-render-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.json"))
		if err == nil && strings.Contains(string(b), fmt.Sprintf(`"pid":%d,`, pid)) {
			return d
		}
	}
	t.Fatalf("no render dir of process %d among %v", pid, dirs)
	return ""
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
