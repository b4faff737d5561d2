package render_test

import (
	"net/http"
	"os"
	"strconv"
	"testing"

	"github.com/rendercache/rendercache/render"
)

// nices returns the nice values of every thread of a process (nice is
// per thread on Linux, and Chromium sets some threads' own).
func nices(t *testing.T, pid int) []int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		f := statFields(tid)
		if len(f) < 17 {
			continue // the thread ended meanwhile
		}
		n, err := strconv.Atoi(f[16])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// Chromium and every process it forks run below the node's CPU priority,
// so renders that saturate the CPU leave the node's raft heartbeats and
// gossip probes their share.
func TestChromiumRunsAtLowerPriority(t *testing.T) {
	renderOK(t, pool, render.Request{URL: newSite(t, map[string]http.HandlerFunc{"/": html("<p>hi</p>")}).URL + "/"})
	self := nices(t, os.Getpid())[0]
	want := min(self+render.DefaultNiceness, 19)
	browser := pool.BrowserPID()
	procs := processesUsing(poolDir(browser))
	if len(procs) < 2 {
		t.Fatalf("found %d chromium processes; want the browser and its helpers", len(procs))
	}
	for _, pid := range procs {
		for _, n := range nices(t, pid) {
			// Chromium may lower a thread's priority further (background
			// work), never raise it above the node's share.
			if n < want {
				t.Errorf("chromium process %d has a thread at nice %d, above the priority it was given (%d)", pid, n, want)
			}
		}
	}
}
