package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A pool keeps its browsers' user data dirs in a temp dir of its own,
// rendercache-render-<random digits>, which Close removes. A node killed
// with SIGKILL never gets there, and each dir it leaves is megabytes. So
// every pool records its owner process in its dir, and a starting pool
// removes its siblings whose owner is gone.

const (
	// workDirPrefix names every pool's temp dir; os.MkdirTemp appends
	// decimal digits.
	workDirPrefix = "rendercache-render-"
	// ownerFile, inside a pool's temp dir, identifies the owning process.
	ownerFile = "owner.json"
	// unownedGrace is how old a dir without an owner file must be before
	// it can be stale: a pool writes its owner file right after creating
	// its dir, and older versions wrote none.
	unownedGrace = 10 * time.Minute
)

// owner identifies a process across PID reuse: a PID, its start time (in
// clock ticks after boot, from /proc/<pid>/stat) and its PID namespace.
type owner struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start,omitempty"`
	PIDNS string `json:"pidns,omitempty"`
}

// self returns the owner record of this process.
func self() owner {
	pid := os.Getpid()
	o := owner{PID: pid}
	o.Start, _ = procStart(pid)
	o.PIDNS, _ = os.Readlink("/proc/self/ns/pid")
	return o
}

// newWorkDir creates a pool's temp dir under os.TempDir, records this
// process as its owner, and removes the stale dirs of dead processes
// beside it.
func newWorkDir(log *slog.Logger) (string, error) {
	parent := os.TempDir()
	dir, err := os.MkdirTemp(parent, workDirPrefix)
	if err != nil {
		return "", fmt.Errorf("render: user data dir: %w", err)
	}
	b, _ := json.Marshal(self())
	if err := os.WriteFile(filepath.Join(dir, ownerFile), b, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("render: user data dir: %w", err)
	}
	for _, stale := range removeStaleWorkDirs(parent, time.Now()) {
		log.Info("removed the render dir of a process that is gone", "dir", stale)
	}
	return dir, nil
}

// removeStaleWorkDirs removes the pool dirs in parent whose owner process
// has exited, with the singleton socket dirs their browsers left in
// parent, and returns the dirs it removed. It never removes the dir of a
// live process, nor one it cannot judge: an owner in another PID
// namespace, or a dir without an owner file that is recent or that a
// running process (a browser) still names on its command line.
func removeStaleWorkDirs(parent string, now time.Time) []string {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	me := self()
	if me.Start == 0 {
		return nil // no /proc: no way to tell a live owner from a dead one
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !isWorkDirName(e.Name()) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		if !stale(dir, me, now) {
			continue
		}
		removeSingletonDirs(dir)
		if err := os.RemoveAll(dir); err == nil {
			removed = append(removed, dir)
		}
	}
	return removed
}

// isWorkDirName reports whether name is workDirPrefix plus digits, as
// os.MkdirTemp makes them; other names that share the prefix (a test's
// rendercache-render-test-…) are not pools' dirs.
func isWorkDirName(name string) bool {
	rest, ok := strings.CutPrefix(name, workDirPrefix)
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return false
		}
	}
	return true
}

// stale reports whether the pool dir's owner is certainly gone.
func stale(dir string, me owner, now time.Time) bool {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	var o owner
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false // unreadable: not ours to judge
	}
	if err != nil || json.Unmarshal(b, &o) != nil || o.PID <= 0 {
		// No owner: an older version's dir, or one whose owner is
		// writing the file right now.
		fi, err := os.Stat(dir)
		return err == nil && now.Sub(fi.ModTime()) > unownedGrace && !namedByProcess(dir)
	}
	if o.PIDNS != me.PIDNS {
		return false // another PID namespace's PIDs mean nothing here
	}
	start, err := procStart(o.PID)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true // no such process
	case err != nil:
		return false
	case o.Start != 0 && start != o.Start:
		return true // the PID now belongs to a later process
	}
	return false
}

// procStart returns when process pid started, in clock ticks after boot
// (field 22 of /proc/<pid>/stat).
func procStart(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after its closing parenthesis start at field 3.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("render: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("render: malformed /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// namedByProcess reports whether a running process has an argument under
// dir, as each browser of a pool has its --user-data-dir there.
func namedByProcess(dir string) bool {
	want := []byte("=" + dir + string(filepath.Separator))
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), string(want)) {
			return true
		}
	}
	return false
}

// removeSingletonDirs removes the singleton socket dirs (under the temp
// dir, linked from each browser's data dir) that a killed browser leaves
// behind, as shutdown does for the browsers it stops.
func removeSingletonDirs(dir string) {
	subs, _ := filepath.Glob(filepath.Join(dir, "*", "SingletonSocket"))
	for _, link := range subs {
		target, err := os.Readlink(link)
		if err != nil {
			continue
		}
		if d := filepath.Dir(target); strings.HasPrefix(filepath.Base(d), "org.chromium.Chromium.") {
			os.RemoveAll(d)
		}
	}
}
