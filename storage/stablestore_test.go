package storage

import (
	"bytes"
	"math"
	"testing"

	"github.com/hashicorp/raft"
)

// TestStableStoreMissing pins the exact error text raft relies on.
func TestStableStoreMissing(t *testing.T) {
	s := openTest(t, "").StableStore()
	v, err := s.Get([]byte("CurrentTerm"))
	if err == nil || err.Error() != "not found" || v != nil {
		t.Errorf("Get(missing) = %q, %v; want error text exactly \"not found\"", v, err)
	}
	n, err := s.GetUint64([]byte("CurrentTerm"))
	if err == nil || err.Error() != "not found" || n != 0 {
		t.Errorf("GetUint64(missing) = %d, %v; want error text exactly \"not found\"", n, err)
	}
}

// TestStableStoreWithRaft runs raft's own check of an empty node, which
// fails unless missing keys are reported the way raft expects.
func TestStableStoreWithRaft(t *testing.T) {
	d := openTest(t, "")
	has, err := raft.HasExistingState(d.LogStore(), d.StableStore(), raft.NewInmemSnapshotStore())
	if err != nil || has {
		t.Fatalf("HasExistingState on empty store = %v, %v; want false, nil", has, err)
	}
	if err := d.StableStore().SetUint64([]byte("CurrentTerm"), 3); err != nil {
		t.Fatal(err)
	}
	has, err = raft.HasExistingState(d.LogStore(), d.StableStore(), raft.NewInmemSnapshotStore())
	if err != nil || !has {
		t.Fatalf("HasExistingState with a term = %v, %v; want true, nil", has, err)
	}
}

func TestStableStoreSetGet(t *testing.T) {
	s := openTest(t, "").StableStore()
	tests := []struct {
		key, val []byte
	}{
		{[]byte("LastVoteCand"), []byte("node-1")},
		{[]byte("empty"), []byte{}},
		{[]byte{}, []byte("empty key")},
		{[]byte{0, 0xff}, bytes.Repeat([]byte("x"), 100000)},
		{[]byte("LastVoteCand"), []byte("node-2")}, // overwrite
	}
	for _, tt := range tests {
		if err := s.Set(tt.key, tt.val); err != nil {
			t.Fatalf("Set(%q): %v", tt.key, err)
		}
		got, err := s.Get(tt.key)
		if err != nil || !bytes.Equal(got, tt.val) {
			t.Errorf("Get(%q) = %.20q, %v; want %.20q", tt.key, got, err, tt.val)
		}
	}
	for _, n := range []uint64{0, 1, 1 << 33, math.MaxUint64} {
		if err := s.SetUint64([]byte("term"), n); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetUint64([]byte("term")); err != nil || got != n {
			t.Errorf("GetUint64 = %d, %v; want %d", got, err, n)
		}
	}
	if _, err := s.GetUint64([]byte("LastVoteCand")); err == nil {
		t.Error("GetUint64 of a 6-byte value succeeded")
	}
}

func TestStableStoreReopen(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir)
	if err := d.StableStore().Set([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := d.StableStore().SetUint64([]byte("term"), 42); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir).StableStore()
	if v, err := s.Get([]byte("a")); err != nil || string(v) != "1" {
		t.Errorf("Get after reopen = %q, %v", v, err)
	}
	if n, err := s.GetUint64([]byte("term")); err != nil || n != 42 {
		t.Errorf("GetUint64 after reopen = %d, %v", n, err)
	}
}
