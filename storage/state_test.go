package storage

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

func mustApply(t testing.TB, s *State, index uint64, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Apply(index, fn); err != nil {
		t.Fatalf("Apply(%d): %v", index, err)
	}
}

func setAll(kv ...string) func(tx *Tx) error {
	return func(tx *Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Set([]byte(kv[i]), []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	}
}

func wantValue(t *testing.T, get func([]byte) ([]byte, error), key, want string) {
	t.Helper()
	got, err := get([]byte(key))
	switch {
	case want == "" && !errors.Is(err, ErrNotFound):
		t.Errorf("Get(%q) = %q, %v; want ErrNotFound", key, got, err)
	case want != "" && (err != nil || string(got) != want):
		t.Errorf("Get(%q) = %q, %v; want %q", key, got, err, want)
	}
}

func collect(t *testing.T, scan func([]byte, func(k, v []byte) error) error, prefix string) string {
	t.Helper()
	var out []string
	if err := scan([]byte(prefix), func(k, v []byte) error {
		out = append(out, string(k)+"="+string(v))
		return nil
	}); err != nil {
		t.Fatalf("Scan(%q): %v", prefix, err)
	}
	return fmt.Sprint(out)
}

func TestApply(t *testing.T) {
	s := openTest(t, "").State()
	if s.AppliedIndex() != 0 {
		t.Fatalf("fresh AppliedIndex = %d", s.AppliedIndex())
	}
	mustApply(t, s, 1, setAll("a", "1", "b", "2"))
	wantValue(t, s.Get, "a", "1")
	wantValue(t, s.Get, "b", "2")

	boom := errors.New("boom")
	err := s.Apply(5, func(tx *Tx) error {
		if err := tx.Set([]byte("c"), []byte("3")); err != nil {
			return err
		}
		if err := tx.Delete([]byte("a")); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Apply with failing fn = %v; want fn's error as is", err)
	}
	wantValue(t, s.Get, "c", "")
	wantValue(t, s.Get, "a", "1")
	if got := s.AppliedIndex(); got != 5 {
		t.Fatalf("AppliedIndex after failed fn = %d; want 5", got)
	}

	for _, idx := range []uint64{0, 1, 4, 5} {
		called := false
		err := s.Apply(idx, func(*Tx) error { called = true; return nil })
		if !errors.Is(err, ErrAlreadyApplied) || called {
			t.Errorf("Apply(%d) replay = %v, fn called %v; want ErrAlreadyApplied, not called", idx, err, called)
		}
	}
	mustApply(t, s, 6, setAll("d", "4"))
	if got := s.AppliedIndex(); got != 6 {
		t.Fatalf("AppliedIndex = %d; want 6", got)
	}
}

func TestTxReadsOwnWrites(t *testing.T) {
	s := openTest(t, "").State()
	mustApply(t, s, 1, setAll("k/1", "old", "k/2", "two", "k/3", "three", "other", "x"))
	var escaped *Tx
	mustApply(t, s, 2, func(tx *Tx) error {
		escaped = tx
		if err := tx.Set([]byte("k/1"), []byte("new")); err != nil {
			return err
		}
		if err := tx.Set([]byte("k/4"), []byte("four")); err != nil {
			return err
		}
		if err := tx.Delete([]byte("k/2")); err != nil {
			return err
		}
		wantValue(t, tx.Get, "k/1", "new")
		wantValue(t, tx.Get, "k/2", "")
		wantValue(t, tx.Get, "k/4", "four")
		wantValue(t, s.Get, "k/1", "old") // not committed yet
		// Only the internal prefix is stripped from keys, never the caller's.
		if got, want := collect(t, tx.Scan, "k/"), "[k/1=new k/3=three k/4=four]"; got != want {
			t.Errorf("tx.Scan = %s; want %s", got, want)
		}
		// Deleting what is visited must work and not disturb the scan.
		return tx.Scan([]byte("k/"), func(k, _ []byte) error {
			return tx.Delete(k)
		})
	})
	if got := collect(t, s.Scan, ""); got != "[other=x]" {
		t.Errorf("state after deleting scan = %s", got)
	}
	if _, err := escaped.Get([]byte("other")); !errors.Is(err, ErrClosed) {
		t.Errorf("Tx.Get after Apply returned = %v; want ErrClosed", err)
	}
	if err := escaped.Set([]byte("late"), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Tx.Set after Apply returned = %v; want ErrClosed", err)
	}
}

func TestScanPrefix(t *testing.T) {
	d := openTest(t, "")
	s := d.State()
	mustApply(t, s, 1, setAll("b/1", "x", "a/2", "2", "a/1", "1", "ab", "y", "", "empty", "\xff", "ff"))
	if err := d.Local().Set([]byte("a/9"), []byte("local"), false); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ prefix, want string }{
		{"a/", "[a/1=1 a/2=2]"},
		{"a", "[a/1=1 a/2=2 ab=y]"},
		{"", "[=empty a/1=1 a/2=2 ab=y b/1=x \xff=ff]"},
		{"\xff", "[\xff=ff]"},
		{"c", "[]"},
	}
	for _, tt := range tests {
		if got := collect(t, s.Scan, tt.prefix); got != tt.want {
			t.Errorf("Scan(%q) = %q; want %q", tt.prefix, got, tt.want)
		}
	}
	if got := collect(t, d.Local().Scan, ""); got != "[a/9=local]" {
		t.Errorf("Local.Scan = %q; the keyspaces leak into each other", got)
	}
	stop := errors.New("stop")
	n := 0
	err := s.Scan(nil, func(k, v []byte) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("Scan with failing fn = %v after %d calls; want stop after 1", err, n)
	}
}

func TestAppliedIndexSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir)
	mustApply(t, d.State(), 7, setAll("k", "v"))
	rejected := errors.New("rejected")
	if err := d.State().Apply(9, func(*Tx) error { return rejected }); err != rejected {
		t.Fatalf("Apply = %v; want %v", err, rejected)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir).State()
	if got := s.AppliedIndex(); got != 9 {
		t.Errorf("AppliedIndex after reopen = %d; want 9", got)
	}
	wantValue(t, s.Get, "k", "v")
	if err := s.Apply(9, setAll("k", "again")); !errors.Is(err, ErrAlreadyApplied) {
		t.Errorf("replay after reopen = %v; want ErrAlreadyApplied", err)
	}
}

// TestCloseDuringScan checks that Close waits for a Scan in progress, and
// that calls made from the Scan's callback meanwhile fail rather than
// deadlock.
func TestCloseDuringScan(t *testing.T) {
	d := openTest(t, "")
	mustApply(t, d.State(), 1, setAll("a", "1", "b", "2"))
	closed := make(chan error)
	var inner error
	err := d.State().Scan(nil, func(k, v []byte) error {
		if string(k) != "a" {
			return nil
		}
		go func() { closed <- d.Close() }()
		for !closing(d) {
			runtime.Gosched()
		}
		_, inner = d.State().Get([]byte("b"))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if !errors.Is(inner, ErrClosed) {
		t.Errorf("Get while closing = %v; want ErrClosed", inner)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func closing(d *DB) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}

func TestConcurrentUse(t *testing.T) {
	d := openTest(t, "")
	s := d.State()
	var wg sync.WaitGroup
	const n = 50
	errs := make(chan error, 4*n)
	for w := 0; w < 2; w++ {
		wg.Go(func() {
			for i := 0; i < n; i++ {
				idx := uint64(w*n + i + 1)
				if err := s.Apply(idx, setAll(fmt.Sprint("k", idx), "v")); err != nil && !errors.Is(err, ErrAlreadyApplied) {
					errs <- err
				}
			}
		})
	}
	wg.Go(func() {
		for i := 0; i < n; i++ {
			if _, _, err := s.Hash(); err != nil {
				errs <- err
			}
			sn, err := s.Snapshot()
			if err != nil {
				errs <- err
				continue
			}
			if _, err := sn.WriteTo(new(bytes.Buffer)); err != nil {
				errs <- err
			}
			sn.Close()
		}
	})
	wg.Go(func() {
		for i := 0; i < n; i++ {
			if err := d.Local().Set([]byte("ctr"), []byte{byte(i)}, i%10 == 0); err != nil {
				errs <- err
			}
			if _, err := s.Get([]byte("k1")); err != nil && !errors.Is(err, ErrNotFound) {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
