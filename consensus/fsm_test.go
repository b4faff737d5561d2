package consensus

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/storage"
)

var errTaken = errkind.New(errkind.Conflict, "taken")

func newTestFSM(t *testing.T) *FSM {
	t.Helper()
	db, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := NewFSM(db.State(), nil)
	// A tiny key-value command: set a key unless it exists.
	f.Register("kv.put", func(tx *storage.Tx, cmd Command) (any, error) {
		var kv struct{ K, V string }
		if err := cmd.Decode(&kv); err != nil {
			return nil, err
		}
		if _, err := tx.Get([]byte(kv.K)); err == nil {
			return nil, errTaken
		}
		return kv.V, tx.Set([]byte(kv.K), []byte(kv.V))
	})
	return f
}

func logOf(t *testing.T, idx uint64, typ string, body any) *raft.Log {
	t.Helper()
	cmd, err := NewCommand(typ, 1, body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cmd.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: b}
}

func TestFSMApplyResultsAndErrors(t *testing.T) {
	f := newTestFSM(t)
	res := f.Apply(logOf(t, 1, "kv.put", map[string]string{"K": "a", "V": "1"})).(*result)
	if v, err := res.unwrap(); err != nil || string(v) != `"1"` {
		t.Fatalf("first put = %s, %v", v, err)
	}
	res = f.Apply(logOf(t, 2, "kv.put", map[string]string{"K": "a", "V": "2"})).(*result)
	if _, err := res.unwrap(); !errors.Is(err, errTaken) {
		t.Fatalf("second put error = %v, want the sentinel after a wire round trip", err)
	}
	res = f.Apply(logOf(t, 3, "nope", map[string]string{})).(*result)
	if _, err := res.unwrap(); err == nil {
		t.Fatal("unknown command type applied without error")
	}
	res = f.Apply(&raft.Log{Index: 4, Type: raft.LogCommand, Data: []byte("garbage")}).(*result)
	if _, err := res.unwrap(); errkind.KindOf(err) != errkind.Invalid {
		t.Fatalf("garbage entry: %v", err)
	}
	if f.Applied() != 4 {
		t.Fatalf("applied = %d, want 4 (failed entries still advance)", f.Applied())
	}
	// Replaying an applied entry (raft does after a restart) is a no-op.
	f.Apply(logOf(t, 1, "kv.put", map[string]string{"K": "b", "V": "x"}))
	if _, err := f.State().Get([]byte("b")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("replayed entry was applied twice")
	}
}

type bufSink struct {
	bytes.Buffer
	cancelled bool
}

func (s *bufSink) ID() string    { return "test" }
func (s *bufSink) Cancel() error { s.cancelled = true; return nil }
func (s *bufSink) Close() error  { return nil }

func TestFSMSnapshotRestore(t *testing.T) {
	a, b := newTestFSM(t), newTestFSM(t)
	for i, k := range []string{"x", "y", "z"} {
		a.Apply(logOf(t, uint64(i+1), "kv.put", map[string]string{"K": k, "V": k + "!"}))
	}
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Writes after the snapshot do not leak into it.
	a.Apply(logOf(t, 4, "kv.put", map[string]string{"K": "late", "V": "1"}))
	var sink bufSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	if err := b.Restore(io.NopCloser(&sink)); err != nil {
		t.Fatal(err)
	}
	if b.Applied() != 3 {
		t.Fatalf("restored applied = %d, want 3", b.Applied())
	}
	if _, err := b.State().Get([]byte("late")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("snapshot contains a later write")
	}
	b.Apply(logOf(t, 4, "kv.put", map[string]string{"K": "late", "V": "1"}))
	ha, ia, _ := a.State().Hash()
	hb, ib, _ := b.State().Hash()
	if ha != hb || ia != ib {
		t.Fatal("replicas differ after restore and replay")
	}
}
