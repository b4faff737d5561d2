package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/render"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// binary builds the rendercache binary once per test run, with VCS
// stamping as a release build has it (whatever GOFLAGS says), and returns
// its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "rendercache-cmd-test-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "rendercache")
		out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// browser is the one Chromium of this test package, shared by every test
// cluster's nodes. Without Chromium the package fails; it never skips.
var browser *render.Pool

func TestMain(m *testing.M) {
	p, err := render.New(context.Background(), render.Options{Concurrency: 2, Policy: origin.Policy{AllowPrivate: true}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cmd/rendercache tests need Chromium (make deps installs it): %v\n", err)
		os.Exit(1)
	}
	browser = p
	code := m.Run()
	if err := p.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "closing Chromium: %v\n", err)
	}
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// The built binary's exit statuses and output, as a shell sees them.
func TestBinaryExitStatuses(t *testing.T) {
	bin := binary(t)
	tests := []struct {
		args       []string
		code       int
		stdout     string // contained
		stderrLine string // the only stderr line, contained; "" for none
	}{
		{args: []string{"--help"}, code: 0, stdout: "--help"},
		{args: []string{"serve", "--help"}, code: 0, stdout: "(env RENDERCACHE_DATA_DIR; default ./data)"},
		{args: []string{"nope"}, code: 2, stderrLine: `rendercache: unknown command "nope"; run 'rendercache --help'`},
		{args: []string{"serve", "--nope"}, code: 2, stderrLine: `run 'rendercache serve --help'`},
		{args: []string{"version"}, code: 0, stdout: "module     github.com/rendercache/rendercache\n"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr strings.Builder
			cmd := exec.Command(bin, tc.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Fatalf("stdout lacks %q:\n%s", tc.stdout, stdout.String())
			}
			switch {
			case tc.stderrLine == "" && stderr.Len() > 0:
				t.Fatalf("stderr %q, want nothing", stderr.String())
			case tc.stderrLine != "" && (strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), tc.stderrLine)):
				t.Fatalf("stderr %q, want one line with %q", stderr.String(), tc.stderrLine)
			}
		})
	}
	// Built from this checkout, version names one of its commits (others
	// may commit while the tests run).
	if err := exec.Command("git", "rev-parse", "HEAD").Run(); err != nil {
		t.Logf("not a git checkout (%v); the revision is not checked", err)
		return
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^revision   ([0-9a-f]{40})$`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("version output has no revision:\n%s", out)
	}
	if err := exec.Command("git", "cat-file", "-e", m[1]+"^{commit}").Run(); err != nil {
		t.Fatalf("revision %s is no commit of this checkout: %v", m[1], err)
	}
	for _, label := range []string{"\ntime       20", "\nmodified   "} {
		if !strings.Contains(string(out), label) {
			t.Fatalf("version output lacks %q:\n%s", label, out)
		}
	}
}
