package render

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startSleeper starts a process that lives until the test ends, with argv0
// as its first argument (its command line's first word).
func startSleeper(t *testing.T, argv0 string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if argv0 != "" {
		cmd.Args[0] = argv0
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// deadOwner returns the owner record of a process that has exited.
func deadOwner(t *testing.T) owner {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start, err := procStart(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	return owner{PID: cmd.Process.Pid, Start: start, PIDNS: self().PIDNS}
}

func liveOwner(t *testing.T) owner {
	t.Helper()
	cmd := startSleeper(t, "")
	start, err := procStart(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return owner{PID: cmd.Process.Pid, Start: start, PIDNS: self().PIDNS}
}

// A starting pool removes exactly the pool dirs whose owner is certainly
// gone, with the singleton socket dirs their browsers left, and nothing a
// live process may still use.
func TestRemoveStaleWorkDirs(t *testing.T) {
	now := time.Now()
	old := now.Add(-time.Hour)
	me := self()
	tests := []struct {
		name    string
		dirName string // default rendercache-render-<n>
		owner   func(t *testing.T) any
		noOwner bool
		file    bool      // a regular file instead of a dir
		mtime   time.Time // zero: now
		named   bool      // a running process names a path under the dir
		removed bool
	}{
		{name: "owner exited", owner: func(t *testing.T) any { return deadOwner(t) }, removed: true},
		{name: "owner exited long ago", owner: func(t *testing.T) any { return deadOwner(t) }, mtime: old, removed: true},
		{name: "owner is this process", owner: func(*testing.T) any { return me }},
		{name: "owner is this process, old dir", owner: func(*testing.T) any { return me }, mtime: old},
		{name: "owner is another live process", owner: func(t *testing.T) any { return liveOwner(t) }, mtime: old},
		{name: "owner PID reused by a later process", owner: func(*testing.T) any {
			o := me
			o.Start++
			return o
		}, removed: true},
		{name: "owner without a start time, alive", owner: func(*testing.T) any { return owner{PID: me.PID, PIDNS: me.PIDNS} }},
		{name: "owner in another PID namespace", owner: func(t *testing.T) any {
			o := deadOwner(t)
			o.PIDNS = "pid:[1]"
			return o
		}, mtime: old},
		{name: "no owner file, recent", noOwner: true},
		{name: "no owner file, old", noOwner: true, mtime: old, removed: true},
		{name: "no owner file, old, a browser still uses it", noOwner: true, mtime: old, named: true},
		{name: "corrupt owner file, recent", owner: func(*testing.T) any { return "{" }},
		{name: "corrupt owner file, old", owner: func(*testing.T) any { return "{" }, mtime: old, removed: true},
		{name: "a test's TMPDIR with the same prefix", dirName: "rendercache-render-test-123", owner: func(t *testing.T) any { return deadOwner(t) }, mtime: old},
		{name: "prefix without digits", dirName: "rendercache-render-", owner: func(t *testing.T) any { return deadOwner(t) }, mtime: old},
		{name: "another program's dir", dirName: "chromium-123", owner: func(t *testing.T) any { return deadOwner(t) }, mtime: old},
		{name: "a file, not a dir", file: true, mtime: old},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			name := tc.dirName
			if name == "" {
				name = workDirPrefix + "4" + strings.Repeat("2", i+1)
			}
			dir := filepath.Join(parent, name)
			singleton := filepath.Join(parent, "org.chromium.Chromium.x"+name)
			if tc.file {
				if err := os.WriteFile(dir, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				// What a killed pool leaves: its owner, a browser's data dir
				// and the singleton socket dir that links from it.
				if err := os.MkdirAll(filepath.Join(dir, "chromium-1"), 0o700); err != nil {
					t.Fatal(err)
				}
				os.Mkdir(singleton, 0o700)
				os.Symlink(filepath.Join(singleton, "SingletonSocket"), filepath.Join(dir, "chromium-1", "SingletonSocket"))
				if !tc.noOwner {
					var b []byte
					switch o := tc.owner(t).(type) {
					case string:
						b = []byte(o)
					default:
						b, _ = json.Marshal(o)
					}
					if err := os.WriteFile(filepath.Join(dir, ownerFile), b, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tc.named {
				startSleeper(t, "--user-data-dir="+filepath.Join(dir, "chromium-1"))
			}
			if !tc.mtime.IsZero() {
				os.Chtimes(dir, tc.mtime, tc.mtime)
			}

			got := removeStaleWorkDirs(parent, now)

			_, err := os.Lstat(dir)
			if gone := os.IsNotExist(err); gone != tc.removed {
				t.Fatalf("dir removed: %v, want %v (reported %v)", gone, tc.removed, got)
			}
			if tc.removed != (len(got) == 1 && got[0] == dir) {
				t.Fatalf("reported %v", got)
			}
			if tc.file {
				return
			}
			if _, err := os.Stat(singleton); os.IsNotExist(err) != tc.removed {
				t.Fatalf("singleton socket dir removed: %v, want %v", os.IsNotExist(err), tc.removed)
			}
		})
	}
}

// Each pool's dir names this process as its owner, so pools of one
// process (a test cluster's nodes) never remove each other's dirs, while a
// dead process's dir goes when the next pool starts.
func TestNewWorkDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := filepath.Join(tmp, workDirPrefix+"1")
	os.Mkdir(dead, 0o700)
	b, _ := json.Marshal(deadOwner(t))
	os.WriteFile(filepath.Join(dead, ownerFile), b, 0o600)

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	first, err := newWorkDir(log)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(first) != tmp || !isWorkDirName(filepath.Base(first)) {
		t.Fatalf("dir %s, want %s<digits> in %s", first, workDirPrefix, tmp)
	}
	var o owner
	if b, err := os.ReadFile(filepath.Join(first, ownerFile)); err != nil || json.Unmarshal(b, &o) != nil || o != self() {
		t.Fatalf("owner file: %+v, %v; want %+v", o, err, self())
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("a dead process's dir survived the pool's start: %v", err)
	}
	if !strings.Contains(logs.String(), dead) {
		t.Fatalf("the removal was not logged: %s", logs.String())
	}
	second, err := newWorkDir(log)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{first, second} {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("a live pool's dir is gone: %v", err)
		}
	}
}
