package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/rendercache/rendercache/client"
	"github.com/rendercache/rendercache/testcluster"
)

// shop is the origin of the end-to-end tests: 20 pages whose content
// JavaScript writes, a sitemap listing them, and a page that fails.
type shop struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

const shopPages = 20

func newShop(t *testing.T) *shop {
	s := &shop{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		switch r.URL.Path {
		case "/sitemap.xml":
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
			for i := 1; i <= shopPages; i++ {
				fmt.Fprintf(w, "<url><loc>http://shop.test/p%d</loc></url>", i)
			}
			io.WriteString(w, `</urlset>`)
		case "/broken":
			http.Error(w, "origin down", http.StatusBadGateway)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html><head><title>shop %s</title></head><body><div id="app">loading</div>
<script>document.getElementById('app').textContent = 'rendered ' + location.pathname</script></body></html>`, r.URL.Path)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// cliEnv runs the CLI in-process with env as its whole environment.
type cliEnv map[string]string

// run returns the exit status and output of one command line.
func (env cliEnv) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
	code := report(&errOut, m.Run(context.Background(), args))
	return code, out.String(), errOut.String()
}

// ok runs a command that must succeed and decodes its -o json output
// into v (unless nil).
func (env cliEnv) ok(t *testing.T, v any, args ...string) {
	t.Helper()
	code, stdout, stderr := env.run(t, append(args, "-o", "json")...)
	if code != 0 {
		t.Fatalf("rendercache %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(stdout), v); err != nil {
			t.Fatalf("rendercache %s: output is not JSON (%v):\n%s", strings.Join(args, " "), err, stdout)
		}
	}
}

// fails runs a command that must exit with code and say want on stderr.
func (env cliEnv) fails(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	got, stdout, stderr := env.run(t, args...)
	if got != code || !strings.Contains(stderr, want) {
		t.Fatalf("rendercache %s: exit %d, stderr %q (stdout %q); want exit %d and %q", strings.Join(args, " "), got, stderr, stdout, code, want)
	}
}

// waited is the -o json output of a --wait.
type waited struct {
	TotalJobs int `json:"totalJobs"`
	Done      int `json:"done"`
	Failed    int `json:"failed"`
	Jobs      []struct {
		JobID  string `json:"jobId"`
		Path   string `json:"path"`
		Status string `json:"status"`
		Node   string `json:"node"`
	} `json:"jobs"`
}

// Every CLI command against a 3-node cluster, through any of its nodes,
// checking the JSON output and the exit codes: the operator sets up an
// account, the account its keys, domain and webhook tokens, and warms
// the cache from a 20-page sitemap with --wait.
func TestCLIEndToEnd(t *testing.T) {
	cl := testcluster.New(t, 3, testcluster.Options{Renderer: browser})
	site := newShop(t)
	endpoints := cl.URL(2) + "," + cl.URL(1) + "," + cl.URL(0)
	op := cliEnv{"RENDERCACHE_ENDPOINT": endpoints, "RENDERCACHE_ADMIN_TOKEN": cl.AdminToken()}

	// The operator: the cluster, an account and its first key.
	var status struct {
		Leader  string `json:"leader"`
		Members int    `json:"members"`
	}
	op.ok(t, &status, "cluster", "status")
	if status.Leader == "" || status.Members != 3 {
		t.Fatalf("cluster status %+v", status)
	}
	var members []struct{ Name, State, Suffrage, HTTPAddr string }
	op.ok(t, &members, "cluster", "members")
	if len(members) != 3 {
		t.Fatalf("members %+v", members)
	}
	var acc struct{ ID, Email, Plan string }
	op.ok(t, &acc, "accounts", "create", "ops@example.com", "--plan", "agency")
	if acc.ID == "" || acc.Plan != "agency" {
		t.Fatalf("account %+v", acc)
	}
	var accounts []struct{ ID string }
	op.ok(t, &accounts, "accounts", "list")
	if len(accounts) != 1 || accounts[0].ID != acc.ID {
		t.Fatalf("accounts %+v", accounts)
	}
	op.fails(t, exitError, "409", "accounts", "create", "OPS@example.com", "--plan", "agency")
	var first struct{ ID, Key string }
	op.ok(t, &first, "keys", "create", "first", "--account", "ops@example.com", "--role", "script")
	if !strings.HasPrefix(first.Key, "rk_live_") {
		t.Fatalf("created key %+v", first)
	}

	// The account, with its key in the environment.
	acct := cliEnv{"RENDERCACHE_ENDPOINT": endpoints, "RENDERCACHE_API_KEY": first.Key}
	code, quiet, _ := acct.run(t, "keys", "create", "deploy", "-q")
	deployKey := strings.TrimSpace(quiet)
	if code != 0 || !strings.HasPrefix(deployKey, "rk_live_") || strings.Contains(deployKey, "\n") {
		t.Fatalf("keys create -q: exit %d, %q", code, quiet)
	}
	var keys []struct{ ID, Name, Hint string }
	acct.ok(t, &keys, "keys", "list")
	if len(keys) != 2 {
		t.Fatalf("keys %+v", keys)
	}
	for _, k := range keys {
		if strings.Contains(k.Hint, first.Key) || strings.Contains(k.Hint, deployKey) {
			t.Fatalf("keys list shows a key: %+v", k)
		}
	}
	deployID := keys[0].ID
	if keys[0].Name != "deploy" {
		deployID = keys[1].ID
	}
	acct.ok(t, nil, "keys", "revoke", deployID)
	cliEnv{"RENDERCACHE_ENDPOINT": endpoints, "RENDERCACHE_API_KEY": deployKey}.fails(t, exitAuth, "401", "keys", "list")

	var d struct {
		Domain   string `json:"domain"`
		Origin   string `json:"origin"`
		CacheTTL int    `json:"cacheTtl"`
		Render   struct {
			TimeoutMs int `json:"timeoutMs"`
		} `json:"render"`
	}
	acct.ok(t, &d, "domains", "add", "shop.test", "--origin", site.URL)
	if d.Domain != "shop.test" || d.Origin != site.URL || d.CacheTTL != 86400 {
		t.Fatalf("domain %+v", d)
	}
	acct.ok(t, &d, "domains", "set", "shop.test", "--cache-ttl", "3600", "--render-timeout", "15000")
	if d.CacheTTL != 3600 || d.Render.TimeoutMs != 15000 {
		t.Fatalf("domains set: %+v", d)
	}
	acct.ok(t, &d, "domains", "set", "shop.test", "--reset", "cache-ttl")
	if d.CacheTTL != 86400 || d.Render.TimeoutMs != 15000 {
		t.Fatalf("domains set --reset cache-ttl: %+v", d)
	}
	acct.ok(t, &d, "domains", "get", "shop.test")
	acct.ok(t, nil, "domains", "add", "blog.test", "--origin", site.URL)
	var domains []struct{ Domain string }
	acct.ok(t, &domains, "domains", "list")
	if len(domains) != 2 {
		t.Fatalf("domains %+v", domains)
	}
	acct.ok(t, nil, "domains", "rm", "blog.test")
	acct.fails(t, exitError, "404", "domains", "get", "blog.test")
	var usage struct{ Domain string }
	acct.ok(t, &usage, "domains", "usage", "shop.test")

	var tok struct{ ID, Token string }
	acct.ok(t, &tok, "webhook-tokens", "create", "shop.test", "deploys")
	if !strings.HasPrefix(tok.Token, "rk_wh_") {
		t.Fatalf("webhook token %+v", tok)
	}
	var tokens []struct{ ID string }
	acct.ok(t, &tokens, "webhook-tokens", "list", "shop.test")
	if len(tokens) != 1 || tokens[0].ID != tok.ID {
		t.Fatalf("webhook tokens %+v", tokens)
	}
	acct.ok(t, nil, "webhook-tokens", "rm", "shop.test", tok.ID)

	// Warm the cache from the 20-page sitemap and wait for every job,
	// wherever it runs.
	var w waited
	acct.ok(t, &w, "cache", "warm", "shop.test", "--sitemap", site.URL+"/sitemap.xml", "--wait", "--poll-interval", "100ms")
	if w.TotalJobs != shopPages || w.Done != shopPages || w.Failed != 0 || len(w.Jobs) != shopPages {
		t.Fatalf("warm --wait: %d jobs, %d done, %d failed", w.TotalJobs, w.Done, w.Failed)
	}
	nodes := map[string]bool{}
	for _, j := range w.Jobs {
		if j.Status != "done" {
			t.Fatalf("job %+v", j)
		}
		nodes[j.Node] = true
	}
	t.Logf("20 warm-up jobs ran on %d nodes", len(nodes))
	// Without a terminal, --wait prints plain progress lines.
	code, _, stderr := acct.run(t, "cache", "warm", "shop.test", "--sitemap", site.URL+"/sitemap.xml", "--wait", "--poll-interval", "100ms")
	if code != 0 || !strings.Contains(stderr, fmt.Sprintf("jobs: %d/%d finished (%d done, 0 failed)", shopPages, shopPages, shopPages)) {
		t.Fatalf("warm --wait without a terminal: exit %d, stderr:\n%s", code, stderr)
	}

	var listing struct {
		CachedPages int `json:"cachedPages"`
		Pages       []struct{ Path string }
	}
	acct.ok(t, &listing, "cache", "list", "shop.test", "--all", "--limit", "7")
	if listing.CachedPages < shopPages {
		t.Fatalf("cache list: %d pages", listing.CachedPages)
	}
	var stats struct{ TotalKeys, DomainCount int }
	acct.ok(t, &stats, "cache", "stats")
	if stats.TotalKeys < shopPages || stats.DomainCount != 1 {
		t.Fatalf("cache stats %+v", stats)
	}

	acct.ok(t, &w, "cache", "refresh", "shop.test", "/p1", "/p2", "--wait", "--poll-interval", "100ms")
	if w.Done != 2 || w.Failed != 0 {
		t.Fatalf("refresh --wait %+v", w)
	}
	var job struct{ JobID, Status string }
	acct.ok(t, &job, "jobs", "get", w.Jobs[0].JobID)
	if job.JobID != w.Jobs[0].JobID || job.Status != "done" {
		t.Fatalf("jobs get %+v", job)
	}
	// A guarded refresh keeps /p1 until its re-render passes the quality
	// guard; the same page passes.
	acct.ok(t, &w, "cache", "refresh", "shop.test", "/p1", "--keep-until-replaced", "--wait", "--poll-interval", "100ms")
	if w.Done != 1 || w.Failed != 0 {
		t.Fatalf("refresh --keep-until-replaced --wait %+v", w)
	}
	acct.ok(t, &w, "cache", "refresh-all", "/p3", "--wait", "--poll-interval", "100ms")
	if w.Done != 1 || w.Failed != 0 {
		t.Fatalf("refresh-all --wait %+v", w)
	}
	var queued struct {
		Jobs []struct{ JobID string } `json:"jobs"`
	}
	acct.ok(t, &queued, "cache", "refresh", "shop.test", "/p4")
	if len(queued.Jobs) != 1 {
		t.Fatalf("refresh without --wait: %+v", queued)
	}

	// A job that fails: the origin answers 502. --wait lists it and
	// exits 1.
	code, stdout, stderr := acct.run(t, "cache", "refresh", "shop.test", "/broken", "/p5", "--wait", "--poll-interval", "100ms", "-o", "json")
	if code != exitError || !strings.Contains(stderr, "1 of 2 jobs failed") || !strings.Contains(stderr, "shop.test/broken") {
		t.Fatalf("refresh of a broken page: exit %d, stderr:\n%s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &w); err != nil || w.Done != 1 || w.Failed != 1 {
		t.Fatalf("refresh of a broken page: %v %+v", err, w)
	}

	var purged struct {
		Message     string `json:"message"`
		KeysDeleted int    `json:"keysDeleted"`
	}
	acct.ok(t, &purged, "cache", "purge", "shop.test", "/p1")
	if purged.Message != "Cache purged" {
		t.Fatalf("purge %+v", purged)
	}
	acct.ok(t, &purged, "cache", "purge", "shop.test")
	acct.ok(t, &purged, "cache", "purge-all")
	if purged.Message != "All your domain caches purged" {
		t.Fatalf("purge-all %+v", purged)
	}

	// Exit codes: usage 2, credentials 3, an unreachable cluster 4, a
	// refused request 1.
	acct.fails(t, exitUsage, "run 'rendercache domains add --help'", "domains", "add")
	acct.fails(t, exitUsage, "--output must be table or json", "cache", "stats", "-o", "yaml")
	cliEnv{"RENDERCACHE_ENDPOINT": endpoints, "RENDERCACHE_API_KEY": "rk_live_00000000000000000000000000000000"}.fails(t, exitAuth, "Invalid API key", "cache", "stats")
	cliEnv{"RENDERCACHE_ENDPOINT": endpoints}.fails(t, exitAuth, "admin token required", "accounts", "list")
	dead, err := testcluster.FreeAddr(false)
	if err != nil {
		t.Fatal(err)
	}
	cliEnv{"RENDERCACHE_ENDPOINT": "http://" + dead}.fails(t, exitUnavailable, "connection refused", "cache", "stats")
	acct.fails(t, exitError, "400", "cache", "purge", "shop.test", "no-slash")
	// A dead first endpoint: the next one answers.
	cliEnv{"RENDERCACHE_ENDPOINT": "http://" + dead + "," + cl.URL(0), "RENDERCACHE_API_KEY": first.Key}.ok(t, nil, "cache", "stats")
	// Flags win over the environment.
	cliEnv{"RENDERCACHE_ENDPOINT": "http://" + dead, "RENDERCACHE_API_KEY": "rk_live_00000000000000000000000000000000"}.ok(t, nil, "cache", "stats", "--endpoint", cl.URL(1), "--api-key", first.Key)
}

// `rendercache cache warm --wait` on a terminal shows the progress bar
// (the real binary, on a pty) with the done and failed counts.
func TestWarmWaitShowsProgressBarOnTerminal(t *testing.T) {
	bin := binary(t)
	cl := testcluster.New(t, 3, testcluster.Options{Renderer: browser})
	site := newShop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := cl.Client()
	acc, err := c.CreateAccount(ctx, "bar@example.com", "agency")
	if err != nil {
		t.Fatal(err)
	}
	key, err := c.AdminCreateKey(ctx, acc.ID, clientKey("bar"))
	if err != nil {
		t.Fatal(err)
	}
	acct := cliEnv{"RENDERCACHE_ENDPOINT": cl.URL(0), "RENDERCACHE_API_KEY": key.Key}
	acct.ok(t, nil, "domains", "add", "shop.test", "--origin", site.URL)

	cmd := exec.CommandContext(ctx, bin, "cache", "warm", "shop.test", "--sitemap", site.URL+"/sitemap.xml", "--wait", "--poll-interval", "100ms")
	cmd.Env = append(os.Environ(), "RENDERCACHE_ENDPOINT="+cl.URL(1)+","+cl.URL(2), "RENDERCACHE_API_KEY="+key.Key, "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var screen bytes.Buffer
	io.Copy(&screen, tty) // until the command exits and the pty closes (EIO)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("warm --wait on a pty: %v\n%s", err, screen.String())
	}
	out := screen.String()
	want := []string{
		"rendering: 20 done, 0 failed", // the bar's description: done and failed counts
		"(20/20)",                      // its count
		"100%",
		"\r", // redrawn in place
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("the terminal shows no %q:\n%q", w, out)
		}
	}
	if strings.Contains(out, "jobs: 20/20 finished") {
		t.Fatalf("a terminal got plain progress lines:\n%q", out)
	}
}

func clientKey(name string) client.NewKey { return client.NewKey{Name: name} }
