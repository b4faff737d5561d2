package render_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/render"
)

// TestRecovery runs the package's one extra pool through a planned
// replacement, a hung browser and a crash under load, then closes it and
// checks that no process, directory or goroutine is left.
func TestRecovery(t *testing.T) {
	// The shared pool's warm tabs hold goroutines of their own: count
	// them in the baseline once they are all open.
	poll(t, "the shared pool's warm tabs", func() bool { return pool.Stats().Warm == 2 })
	baseline := poolGoroutines()
	g := newGates(t)
	s := slowSite(t, g)
	p, err := render.New(context.Background(), render.Options{Concurrency: 2, IdleTime: testIdle, Policy: allowAll})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close() // on failure; the last subtest closes it for real
	dir := poolDir(p.BrowserPID())
	var pids []int // every process of every browser the pool ran

	// note records a browser's processes, to check after Close.
	note := func() {
		for _, pid := range descendants(p.BrowserPID()) {
			if !slices.Contains(pids, pid) {
				pids = append(pids, pid)
			}
		}
	}
	note()

	t.Run("replacement drains the old browser", func(t *testing.T) {
		first := p.BrowserPID()
		firstDir := userDataDir(first)
		held := make(chan error, 1)
		go func() {
			_, err := p.Render(context.Background(), render.Request{URL: s.URL + "/slow?g=drain"})
			held <- err
		}()
		poll(t, "a render on the old browser", func() bool { return s.count("/api/slow") == 1 })
		render.Recycle(p)
		poll(t, "a new browser", func() bool { pid := p.BrowserPID(); return pid != 0 && pid != first })
		note()
		if live := processesUsing(firstDir); len(live) == 0 {
			t.Fatal("the old browser stopped while a render still used it")
		}
		if res := renderOK(t, p, render.Request{URL: s.URL + "/fast"}); !strings.Contains(string(res.Body), "fast page") {
			t.Fatalf("render on the new browser: %s", res.Body)
		}
		g.open("drain")
		if err := <-held; err != nil {
			t.Fatalf("the render on the retired browser failed: %v", err)
		}
		poll(t, "the retired browser to exit", func() bool { return len(processesUsing(firstDir)) == 0 })
		if st := p.Stats(); st.Recycles != 1 || st.Restarts != 0 {
			t.Fatalf("stats after a replacement: %+v", st)
		}
	})

	t.Run("a hung browser is killed and replaced", func(t *testing.T) {
		hung := p.BrowserPID()
		before := p.Stats().Restarts
		if err := syscall.Kill(hung, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer syscall.Kill(hung, syscall.SIGCONT)
		_, err := p.Render(context.Background(), render.Request{URL: s.URL + "/fast", Timeout: time.Second})
		if err == nil || errkind.KindOf(err) != errkind.Unavailable {
			t.Fatalf("render on a stopped browser: %v", err)
		}
		poll(t, "the hung browser to be replaced", func() bool { pid := p.BrowserPID(); return pid != 0 && pid != hung })
		note()
		if st := p.Stats(); st.Restarts != before+1 {
			t.Fatalf("stats after a hang: %+v", st)
		}
		renderOK(t, p, render.Request{URL: s.URL + "/fast"})
	})

	t.Run("a crash under load is retried", func(t *testing.T) {
		before := p.Stats()
		victim := p.BrowserPID()
		waiting := s.count("/api/slow")
		// Twice as many renders as slots: two on the browser when it
		// dies, the rest queued behind them. Each is bounded by a
		// deadline of its own, so a hung render fails rather than hangs.
		const n = 6
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := p.Render(ctx, render.Request{URL: fmt.Sprintf("%s/slow?g=crash&i=%d", s.URL, i)})
				errs <- err
			}()
		}
		poll(t, "two renders waiting on their pages", func() bool { return p.Stats().Active == 2 && s.count("/api/slow") == waiting+2 })
		if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		poll(t, "a new browser", func() bool { pid := p.BrowserPID(); return pid != 0 && pid != victim })
		note()
		g.open("crash")
		ok := 0
		for range n {
			err := <-errs
			switch {
			case err == nil:
				ok++
			case ctx.Err() != nil:
				t.Fatalf("a render hung until the test's deadline after the crash: %v", err)
			case errkind.KindOf(err) != errkind.Unavailable:
				t.Errorf("a render failed uncleanly: %v", err)
			default:
				t.Logf("a render failed cleanly: %v", err)
			}
		}
		// Every render waited on its page until the new browser was up, so
		// each one killed mid-flight must have succeeded on its retry.
		if ok != n {
			t.Fatalf("%d of %d renders succeeded across the crash, want all", ok, n)
		}
		st := p.Stats()
		if st.Restarts != before.Restarts+1 || st.Retries < before.Retries+1 {
			t.Fatalf("stats after a crash: %+v, before %+v", st, before)
		}
		if res := renderOK(t, p, render.Request{URL: s.URL + "/fast"}); !strings.Contains(string(res.Body), "fast page") {
			t.Fatalf("render after recovery: %s", res.Body)
		}
		if pid := p.BrowserPID(); pid == victim || pid == 0 {
			t.Fatalf("BrowserPID %d after the crash of %d", pid, victim)
		}
	})

	t.Run("close leaves nothing behind", func(t *testing.T) {
		note()
		// Both slots held by renders waiting on their pages, and one
		// render queued behind them: Close fails all three.
		waiting := s.count("/api/slow")
		errs := make(chan error, 3)
		for i := range 3 {
			go func() {
				_, err := p.Render(context.Background(), render.Request{URL: fmt.Sprintf("%s/slow?g=close&i=%d", s.URL, i)})
				errs <- err
			}()
		}
		poll(t, "two renders in flight and one queued", func() bool {
			st := p.Stats()
			return st.Active == 2 && st.Queued == 1 && s.count("/api/slow") == waiting+2
		})
		// Close concurrently with itself: every call waits for the first.
		closed := make(chan error, 2)
		for range 2 {
			go func() { closed <- p.Close() }()
		}
		for range 2 {
			if err := <-closed; err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		for range 3 {
			if err := <-errs; !errors.Is(err, render.ErrClosed) {
				t.Errorf("a render in flight or queued at Close got %v, want ErrClosed", err)
			}
		}
		if err := p.Close(); err != nil {
			t.Fatalf("Close after Close: %v", err)
		}
		if _, err := p.Render(context.Background(), render.Request{URL: s.URL + "/fast"}); !errors.Is(err, render.ErrClosed) {
			t.Fatalf("render after Close: %v", err)
		}
		if live := processesUsing(dir); len(live) > 0 {
			t.Fatalf("chromium processes %v outlived Close", live)
		}
		for _, pid := range pids {
			if st, _, ok := procStat(pid); ok && st != "Z" && strings.Contains(userDataDir(pid), dir) {
				t.Fatalf("process %d of the pool is still alive", pid)
			}
		}
		if z := zombies(); len(z) > 0 {
			t.Fatalf("zombie children %v", z)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("the pool's data dir %s is left behind: %v", filepath.Base(dir), entries)
		}
		g.openAll()
		s.Close()
		poll(t, fmt.Sprintf("the pool's goroutines to end (baseline %d)", baseline), func() bool { return poolGoroutines() <= baseline })
	})
}
