package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/operator"
)

// run runs the CLI in-process and returns its exit status and output, as
// main would produce them.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	err := m.Run(context.Background(), args)
	code = report(&errOut, err)
	return code, out.String(), errOut.String()
}

// Help, asked for in every way a Go tool accepts, goes to stdout and exits
// 0.
func TestHelpExitsZero(t *testing.T) {
	tests := []struct {
		args []string
		want string // in stdout
	}{
		{args: []string{"--help"}, want: "Commands:"},
		{args: []string{"-h"}, want: "Commands:"},
		{args: []string{"-help"}, want: "Commands:"},
		{args: []string{"help"}, want: "Commands:"},
		{args: []string{"serve", "--help"}, want: "Usage: rendercache serve"},
		{args: []string{"serve", "-h"}, want: "Usage: rendercache serve"},
		{args: []string{"help", "serve"}, want: "Usage: rendercache serve"},
		{args: []string{"serve", "--name", "x", "--help"}, want: "Usage: rendercache serve"},
		{args: []string{"dev", "--help"}, want: "Usage: rendercache dev"},
		{args: []string{"keygen", "--help"}, want: "Usage: rendercache keygen"},
		{args: []string{"version", "--help"}, want: "Usage: rendercache version"},
		{args: []string{"admin-token", "--help"}, want: "admin-token reset --help"},
		{args: []string{"help", "admin-token"}, want: "admin-token reset --help"},
		{args: []string{"admin-token", "reset", "--help"}, want: "Usage: rendercache admin-token reset"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr)
			}
			if !strings.Contains(stdout, tc.want) {
				t.Fatalf("stdout lacks %q:\n%s", tc.want, stdout)
			}
			if regexp.MustCompile(`(?m)^\s+-[a-z]`).MatchString(stdout) {
				t.Fatalf("help shows a single-dash flag:\n%s", stdout)
			}
		})
	}
}

// Every command and group, however deep, answers --help on stdout with
// exit 0, and shows no single-dash flag.
func TestEveryCommandHelpExitsZero(t *testing.T) {
	var walk func(prefix []string, cmd *cobra.Command)
	n := 0
	walk = func(prefix []string, cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			args := append(append([]string(nil), prefix...), sub.Name())
			n++
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, stdout, stderr := run(t, append(args, "--help")...)
				if code != 0 || stderr != "" || !strings.Contains(stdout, "Usage: rendercache "+strings.Join(args, " ")) {
					t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
				}
				if regexp.MustCompile(`(?m)^\s+-[a-z]`).MatchString(stdout) {
					t.Fatalf("help shows a single-dash flag:\n%s", stdout)
				}
			})
			walk(args, sub)
		}
	}
	walk(nil, NewMain(io.Discard, io.Discard).root())
	if n < 30 {
		t.Fatalf("only %d commands found", n)
	}
}

// serveFlags lists serve's flags with their defaults as --help must show
// them.
var serveFlags = map[string]string{
	"name":                  "the host name",
	"data-dir":              "./data",
	"http-addr":             "127.0.0.1:8080",
	"internal-addr":         "127.0.0.1:8081",
	"raft-addr":             "127.0.0.1:8082",
	"gossip-addr":           "127.0.0.1:8083",
	"join":                  "none",
	"voters":                "3",
	"cluster-key":           "generated into <data-dir>/cluster.key on first bootstrap",
	"admin-token":           "generated on first bootstrap, printed once, stored hashed",
	"config":                "none",
	"dead-node-timeout":     "30s",
	"allow-private-origins": "false",
	"allow-origin-cidrs":    "none",
	"chrome-path":           "chromium on PATH",
	"render-concurrency":    "the number of CPUs",
	"render-timeout":        "20s",
	"render-memory-limit":   "2 GiB (2147483648 bytes)",
	"cache-bytes":           "256 MiB (268435456 bytes)",
	"l2-bytes":              "1 GiB (1073741824 bytes)",
	"hot-bytes":             "64 MiB (67108864 bytes)",
	"cdn-domain":            "cdn.localhost",
	"asset-max-bytes":       "16 MiB (16777216 bytes)",
	"tenant-domain":         "tenants.localhost",
	"public-url":            "http://<http-addr>",
	"encryption-key":        "derived from the cluster key with HKDF",
	"smtp-addr":             "none; invites answer emailSent false",
	"smtp-from":             "rendercache@<tenant-domain>",
	"dns-resolver":          "the system's nameservers from /etc/resolv.conf",
	"log-level":             "info",
}

// serve --help lists every flag in its --flag form with its environment
// variable and default, and the README's flag table lists the same.
func TestServeHelpListsFlagsWithEnvAndDefault(t *testing.T) {
	_, stdout, _ := run(t, "serve", "--help")
	re := regexp.MustCompile(`(?m)^  --([a-z0-9-]+)( \S+)?\n {8}.+\n {8}\(env (RENDERCACHE_[A-Z0-9_]+); default (.+)\)$`)
	got := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(stdout, -1) {
		if want := envName(m[1]); m[3] != want {
			t.Errorf("--%s shows env %s, want %s", m[1], m[3], want)
		}
		got[m[1]] = m[4]
	}
	for name, def := range serveFlags {
		if g, ok := got[name]; !ok {
			t.Errorf("--%s missing from serve --help", name)
		} else if g != def {
			t.Errorf("--%s default shown as %q, want %q", name, g, def)
		}
	}
	for name := range got {
		if _, ok := serveFlags[name]; !ok {
			t.Errorf("--%s is new: add it to serveFlags and the README's flag table", name)
		}
	}
	if t.Failed() {
		t.Logf("serve --help:\n%s", stdout)
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range serveFlags {
		row := "| `--" + name + "` | `" + envName(name) + "` |"
		if !bytes.Contains(readme, []byte(row)) {
			t.Errorf("README's flag table has no row starting %s", row)
		}
	}
}

// A wrong command line prints one line, the error and a hint, on stderr
// and exits 2; it never prints the whole usage.
func TestUsageErrorsAreOneLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"x"}, want: `rendercache: unknown command "x"; run 'rendercache --help'`},
		{args: []string{"--bogus"}, want: `rendercache: unknown flag: --bogus; run 'rendercache --help'`},
		{args: []string{"help", "x"}, want: `rendercache: unknown help topic "x"; run 'rendercache --help'`},
		{args: []string{"serve", "--bogus"}, want: `rendercache: unknown flag: --bogus; run 'rendercache serve --help'`},
		{args: []string{"serve", "extra"}, want: `rendercache: unexpected arguments ["extra"]; run 'rendercache serve --help'`},
		{args: []string{"serve", "--voters", "many"}, want: `; run 'rendercache serve --help'`},
		{args: []string{"dev", "--nodes", "0"}, want: `rendercache: --nodes must be between 1 and 64; run 'rendercache dev --help'`},
		{args: []string{"keygen", "extra"}, want: `rendercache: unexpected arguments ["extra"]; run 'rendercache keygen --help'`},
		{args: []string{"version", "extra"}, want: `rendercache: unexpected arguments ["extra"]; run 'rendercache version --help'`},
		{args: []string{"admin-token"}, want: `rendercache: admin-token needs a subcommand; run 'rendercache admin-token --help'`},
		{args: []string{"admin-token", "rotate"}, want: `rendercache: unknown admin-token subcommand "rotate"; run 'rendercache admin-token --help'`},
		{args: []string{"admin-token", "reset", "--bogus"}, want: `; run 'rendercache admin-token reset --help'`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
			if stdout != "" {
				t.Fatalf("stdout %q, want nothing", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr %q, want one line with %q", stderr, tc.want)
			}
		})
	}
}

// No command at all is a usage error too, with the usage on stderr, as
// the go command does.
func TestNoCommandPrintsUsageAndExitsTwo(t *testing.T) {
	code, stdout, stderr := run(t)
	if code != 2 || stdout != "" || !strings.Contains(stderr, "Commands:") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// A command that runs and fails exits 1 with one line.
func TestFailureExitsOne(t *testing.T) {
	code, _, stderr := run(t, "admin-token", "reset", "--data-dir", filepath.Join(t.TempDir(), "missing"))
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "rendercache: admin-token reset: ") {
		t.Fatalf("exit %d, stderr %q; want 1 and one line", code, stderr)
	}
}

// version prints the module version and what go build recorded of the
// checkout.
func TestVersion(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.99",
		Main:      debug.Module{Path: "github.com/rendercache/rendercache", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2025-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name    string
		info    *debug.BuildInfo
		ok      bool
		ldflags string
		want    []string
	}{
		{name: "built from a checkout", info: stamped, ok: true, want: []string{
			"rendercache v1.2.3\n",
			"module     github.com/rendercache/rendercache\n",
			"go         go1.99 ",
			"revision   0123456789abcdef0123456789abcdef01234567\n",
			"time       2025-01-02T03:04:05Z\n",
			"modified   true\n",
		}},
		{name: "version set with -ldflags", info: stamped, ok: true, ldflags: "v9.9.9", want: []string{"rendercache v9.9.9\n", "revision   0123456789abcdef"}},
		{name: "built without VCS information", info: &debug.BuildInfo{Main: debug.Module{Path: "github.com/rendercache/rendercache", Version: "(devel)"}}, ok: true, want: []string{
			"rendercache (devel)\n",
			"revision   unknown (not built from a VCS checkout)\n",
		}},
		{name: "no build information", ok: false, want: []string{"rendercache (unknown)\n", "module     github.com/rendercache/rendercache\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func(v string) { version = v }(version)
			version = tc.ldflags
			var out bytes.Buffer
			c := &VersionCommand{Stdout: &out, BuildInfo: func() (*debug.BuildInfo, bool) { return tc.info, tc.ok }}
			if err := c.Run(); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// admin-token reset prints a new token once and leaves only its hash in
// the data dir named by the flag or by RENDERCACHE_DATA_DIR.
func TestAdminTokenResetCommand(t *testing.T) {
	for _, viaEnv := range []bool{false, true} {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "state"), 0o700)
		var out, errOut bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
			if viaEnv && k == "RENDERCACHE_DATA_DIR" {
				return dir
			}
			return ""
		}}
		args := []string{"admin-token", "reset", "--data-dir", dir}
		if viaEnv {
			args = args[:2]
		}
		if err := m.Run(context.Background(), args); err != nil {
			t.Fatal(err)
		}
		token := regexp.MustCompile(operator.TokenPrefix + `[A-Za-z0-9]+`).FindString(out.String())
		if !secret.HasShape(token, operator.TokenPrefix) {
			t.Fatalf("no admin token in the output:\n%s", out.String())
		}
		if hash, err := operator.PendingReset(dir); err != nil || hash != secret.Hash(token) {
			t.Fatalf("pending reset %q, %v; want the printed token's hash", hash, err)
		}
	}
}

// serve logs a warning at start when private origins are allowed, naming
// the flag, and says nothing otherwise.
func TestServeWarnsWhenPrivateOriginsAreAllowed(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // in the log; none: an empty log
	}{
		{name: "default", args: nil},
		{name: "private origins", args: []string{"--allow-private-origins"}, want: []string{"level=WARN", "private origins are allowed", "flag=--allow-private-origins"}},
		{name: "origin networks", args: []string{"--allow-origin-cidrs", "10.1.0.0/16"}, want: []string{"level=WARN", "flag=--allow-origin-cidrs", "cidrs=10.1.0.0/16"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &ServeCommand{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
			cfg, _, err := c.parse(append([]string{"--data-dir", t.TempDir()}, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			warnOriginPolicy(slog.New(slog.NewTextHandler(&logs, nil)), cfg)
			for _, w := range tc.want {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %q: %s", w, logs.String())
				}
			}
			if len(tc.want) == 0 && logs.Len() > 0 {
				t.Errorf("unexpected log: %s", logs.String())
			}
		})
	}
	// The environment variable counts as the flag.
	c := &ServeCommand{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(k string) string {
		if k == "RENDERCACHE_ALLOW_PRIVATE_ORIGINS" {
			return "true"
		}
		return ""
	}}
	cfg, _, err := c.parse([]string{"--data-dir", t.TempDir()})
	if err != nil || !cfg.AllowPrivateOrigins {
		t.Fatalf("RENDERCACHE_ALLOW_PRIVATE_ORIGINS=true: %v, allowed %v", err, cfg.AllowPrivateOrigins)
	}
}

// Only the connection and output flags read RENDERCACHE_* variables: a
// command's own flags never do, so RENDERCACHE_ORIGIN cannot slip into a
// domain. The API key comes from the environment, and a flag wins over it.
func TestOnlyConnectionFlagsReadTheEnvironment(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Header.Get("X-Api-Key")+" "+string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		io.WriteString(w, `{"domain":"x.test","origin":"https://o.example"}`)
	}))
	defer srv.Close()
	env := map[string]string{"RENDERCACHE_ENDPOINT": srv.URL, "RENDERCACHE_API_KEY": "rk_live_env", "RENDERCACHE_ORIGIN": "https://evil.example", "RENDERCACHE_CACHE_TTL": "60"}
	for _, args := range [][]string{
		{"domains", "add", "x.test", "--origin", "https://o.example"},
		{"domains", "add", "x.test", "--origin", "https://o.example", "--api-key", "rk_live_flag"},
	} {
		var out, errOut bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
		if code := report(&errOut, m.Run(context.Background(), args)); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
	}
	want := []string{`rk_live_env {"domain":"x.test","origin":"https://o.example"}`, `rk_live_flag {"domain":"x.test","origin":"https://o.example"}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
