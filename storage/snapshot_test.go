package storage

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// fill applies n entries with values of size bytes under prefix.
func fill(t *testing.T, s *State, first uint64, n, size int, prefix string) {
	t.Helper()
	for i := 0; i < n; i++ {
		v := bytes.Repeat([]byte{byte(i)}, size)
		mustApply(t, s, first+uint64(i), func(tx *Tx) error {
			return tx.Set(fmt.Appendf(nil, "%s%05d", prefix, i), v)
		})
	}
}

func TestSnapshotRestore(t *testing.T) {
	src := openTest(t, "").State()
	// More than one WriteTo chunk and more than one Restore batch, plus a
	// single value bigger than a chunk.
	fill(t, src, 1, 100, 64<<10, "page/")
	mustApply(t, src, 101, setAll("", "empty key", "z", ""))
	big := bytes.Repeat([]byte("B"), 3<<20)
	mustApply(t, src, 102, func(tx *Tx) error { return tx.Set([]byte("big"), big) })
	wantSum, wantIdx, err := src.Hash()
	if err != nil {
		t.Fatal(err)
	}
	sn, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	// Writes after the snapshot must not show up in it.
	mustApply(t, src, 103, setAll("page/00001", "changed", "late", "x"))

	var buf bytes.Buffer
	n, err := sn.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; buffer holds %d", n, err, buf.Len())
	}
	if sn.Index() != wantIdx || wantIdx != 102 {
		t.Fatalf("Snapshot.Index = %d, Hash applied = %d; want 102", sn.Index(), wantIdx)
	}

	dstDB := openTest(t, "")
	dst := dstDB.State()
	mustApply(t, dst, 500, setAll("stale", "gone after restore", "page/00001", "old"))
	if err := dst.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	gotSum, gotIdx, err := dst.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if gotSum != wantSum || gotIdx != wantIdx || dst.AppliedIndex() != wantIdx {
		t.Fatalf("after Restore: hash %x idx %d (AppliedIndex %d); want %x idx %d", gotSum, gotIdx, dst.AppliedIndex(), wantSum, wantIdx)
	}
	wantValue(t, dst.Get, "stale", "")
	wantValue(t, dst.Get, "late", "")
	if err := dst.Apply(102, setAll("x", "y")); !errors.Is(err, ErrAlreadyApplied) {
		t.Errorf("Apply(snapshot index) after Restore = %v; want ErrAlreadyApplied", err)
	}
	mustApply(t, dst, 103, setAll("after", "restore"))
	wantNoTemps(t, dstDB)

	// A second snapshot of the restored state is byte-identical.
	sn2, err := dst.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn2.Close()
	if sn2.Index() != 103 {
		t.Errorf("Index of snapshot after restore = %d; want 103", sn2.Index())
	}
}

func wantNoTemps(t *testing.T, d *DB) {
	t.Helper()
	if m, _ := filepath.Glob(filepath.Join(d.Dir(), restoreTempPattern)); len(m) > 0 {
		t.Errorf("restore left files behind: %v", m)
	}
}

func snapshotBytes(t *testing.T, s *State) []byte {
	t.Helper()
	sn, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	var buf bytes.Buffer
	if _, err := sn.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRestoreRejectsBadStreams(t *testing.T) {
	src := openTest(t, "").State()
	mustApply(t, src, 1, setAll("a", "1", "b", "22", "c", "333"))
	good := snapshotBytes(t, src)
	header := len(snapMagic) + 2 // magic, version, one-byte applied index

	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name   string
		stream []byte
	}{
		{"empty", nil},
		{"bad magic", mod(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"bad version", mod(func(b []byte) []byte { b[len(snapMagic)] = 2; return b })},
		{"header only", good[:header]},
		{"mid record", good[:header+3]},
		{"no end marker", good[:len(good)-5]},
		{"no checksum", good[:len(good)-4]},
		{"short checksum", good[:len(good)-1]},
		{"flipped value byte", mod(func(b []byte) []byte { b[len(b)-7] ^= 1; return b })},
		{"flipped checksum", mod(func(b []byte) []byte { b[len(b)-1] ^= 1; return b })},
		{"bad tag", mod(func(b []byte) []byte { b[header] = 7; return b })},
		{"trailing data", append(append([]byte(nil), good...), 0)},
		{"huge key length", append(append([]byte(nil), good[:header]...), 1, 0xff, 0xff, 0xff, 0xff, 0x0f)},
		{"key length past end", append(append([]byte(nil), good[:header]...), 1, 0xff, 0xff, 0x3f)},
	}

	dstDB := openTest(t, "")
	dst := dstDB.State()
	mustApply(t, dst, 40, setAll("keep", "me"))
	before, _, err := dst.Hash()
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := dst.Restore(bytes.NewReader(tt.stream)); err == nil {
				t.Fatal("Restore accepted a bad stream")
			}
			sum, idx, err := dst.Hash()
			if err != nil || sum != before || idx != 40+uint64(i) || dst.AppliedIndex() != idx {
				t.Fatalf("state changed by a rejected restore: idx %d AppliedIndex %d, err %v", idx, dst.AppliedIndex(), err)
			}
			wantValue(t, dst.Get, "keep", "me")
			mustApply(t, dst, 41+uint64(i), func(*Tx) error { return nil }) // still usable
			wantNoTemps(t, dstDB)
		})
	}
	if err := dst.Restore(bytes.NewReader(good)); err != nil {
		t.Fatalf("good stream after bad ones: %v", err)
	}
	wantValue(t, dst.Get, "b", "22")
	wantValue(t, dst.Get, "keep", "")
}

// TestInterruptedRestore simulates a crash half-way through rewriting the
// state: the next Open must start empty rather than from a mix.
func TestInterruptedRestore(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir)
	mustApply(t, d.State(), 3, setAll("half", "restored"))
	if err := d.pdb.Set(keyRestoring, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir).State()
	if s.AppliedIndex() != 0 {
		t.Errorf("AppliedIndex = %d; want 0", s.AppliedIndex())
	}
	if got := collect(t, s.Scan, ""); got != "[]" {
		t.Errorf("state after interrupted restore = %s; want empty", got)
	}
	mustApply(t, s, 1, setAll("a", "b"))
}

func TestSnapshotOutlivesDB(t *testing.T) {
	d := openTest(t, "")
	mustApply(t, d.State(), 1, setAll("a", "1"))
	sn, err := d.State().Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := sn.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.WriteTo(new(bytes.Buffer)); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteTo on closed snapshot = %v; want ErrClosed", err)
	}
	if err := sn.Close(); err != nil {
		t.Errorf("second Snapshot.Close = %v", err)
	}
}
