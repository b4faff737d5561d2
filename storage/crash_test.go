package storage

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

const (
	crashDirEnv = "STORAGE_CRASH_HELPER_DIR"
	crashBatch  = 3   // entries per StoreLogs call
	crashAcks   = 300 // acknowledged calls to wait for before killing
)

// TestCrashHelper is the child process of TestCrashConsistency: it appends
// batches to the log in the directory named by the environment and prints
// the last index of each batch once StoreLogs has returned. It never ends
// on its own within the parent's patience; the parent kills it.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only run as a child of TestCrashConsistency")
	}
	d, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	s := d.LogStore()
	out := bufio.NewWriter(os.Stdout)
	for next := uint64(1); next < 1<<20; next += crashBatch {
		logs := make([]*raft.Log, crashBatch)
		for i := range logs {
			idx := next + uint64(i)
			logs[i] = &raft.Log{Index: idx, Term: 1, Data: []byte(strconv.FormatUint(idx, 10))}
		}
		if err := s.StoreLogs(logs); err != nil {
			fmt.Fprintln(out, "error:", err)
			out.Flush()
			os.Exit(2)
		}
		fmt.Fprintln(out, "ack", next+crashBatch-1)
		out.Flush() // the ack must leave before the next write starts
	}
	os.Exit(3) // parent should have killed us long ago
}

// TestCrashConsistency kills a process appending to the log with SIGKILL
// and checks that every append it acknowledged survives, and that no batch
// survives in part.
func TestCrashConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	var acked uint64
	sc := bufio.NewScanner(stdout)
	for n := 0; n < crashAcks && sc.Scan(); {
		line := sc.Text()
		if strings.HasPrefix(line, "error:") {
			t.Fatalf("child: %s", line)
		}
		rest, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			continue // test framework chatter
		}
		idx, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			t.Fatalf("bad ack line %q", line)
		}
		acked = idx
		n++
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup runs
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
	if acked < crashAcks*crashBatch {
		t.Fatalf("child stopped after acknowledging index %d (scanner: %v)", acked, sc.Err())
	}

	s := openTest(t, dir).LogStore()
	first, _ := s.FirstIndex()
	last, err := s.LastIndex()
	if err != nil || first != 1 || last < acked {
		t.Fatalf("after crash First=%d Last=%d (%v); want 1 and >= %d", first, last, err, acked)
	}
	if last%crashBatch != 0 {
		t.Errorf("Last=%d is inside a batch: a StoreLogs survived in part", last)
	}
	for idx := uint64(1); idx <= last; idx++ {
		var l raft.Log
		if err := s.GetLog(idx, &l); err != nil {
			t.Fatalf("GetLog(%d) after crash (acked up to %d): %v", idx, acked, err)
		}
		if string(l.Data) != strconv.FormatUint(idx, 10) {
			t.Fatalf("GetLog(%d) data = %q", idx, l.Data)
		}
	}
	t.Logf("acked %d, found %d after SIGKILL", acked, last)
}
