package storage

import (
	"bytes"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// FuzzRestore feeds arbitrary streams to Restore: it must never panic, and
// the state must stay usable whatever it returns.
func FuzzRestore(f *testing.F) {
	src := openTest(f, "").State()
	if err := src.Apply(3, setAll("a", "1", "bb", "22", "", "empty")); err != nil {
		f.Fatal(err)
	}
	sn, err := src.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	var good bytes.Buffer
	if _, err := sn.WriteTo(&good); err != nil {
		f.Fatal(err)
	}
	sn.Close()
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()-1])
	f.Add([]byte(snapMagic))
	f.Add(append([]byte(snapMagic), snapVersion, 0, recEnd, 0, 0, 0, 0))
	f.Add([]byte{})

	d := openTest(f, "")
	s := d.State()
	f.Fuzz(func(t *testing.T, stream []byte) {
		before, beforeIdx, err := s.Hash()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Restore(bytes.NewReader(stream)); err != nil {
			after, afterIdx, herr := s.Hash()
			if herr != nil || after != before || afterIdx != beforeIdx {
				t.Fatalf("failed Restore (%v) changed the state", err)
			}
		}
		next := s.AppliedIndex() + 1
		if err := s.Apply(next, setAll("probe", "x")); err != nil {
			t.Fatalf("Apply after Restore: %v", err)
		}
		if v, err := s.Get([]byte("probe")); err != nil || string(v) != "x" {
			t.Fatalf("Get after Restore = %q, %v", v, err)
		}
		if s.AppliedIndex() != next {
			t.Fatalf("AppliedIndex = %d; want %d", s.AppliedIndex(), next)
		}
	})
}

// FuzzLogDecode checks that decoding arbitrary bytes never panics, that
// whatever decodes re-encodes to the same entry, and that any entry
// round-trips through the codec.
func FuzzLogDecode(f *testing.F) {
	f.Add(encodeLog(nil, &raft.Log{Index: 1, Term: 1, Data: []byte("x")}), uint64(9), uint64(2), uint8(0), []byte("data"), []byte("ext"), int64(1700000000), int64(5))
	f.Add([]byte{logCodecV1}, uint64(0), uint64(0), uint8(255), []byte{}, []byte(nil), int64(-62135596800), int64(0))
	f.Add([]byte{}, uint64(1<<63), uint64(1), uint8(3), []byte(nil), []byte{0}, int64(-1), int64(999999999))

	f.Fuzz(func(t *testing.T, raw []byte, index, term uint64, typ uint8, data, ext []byte, sec, nsec int64) {
		var l raft.Log
		if err := decodeLog(raw, &l); err == nil {
			var again raft.Log
			if err := decodeLog(encodeLog(nil, &l), &again); err != nil || !logsEqual(&again, &l) {
				t.Fatalf("re-encoding %x: got %s, %v; want %s", raw, fmtLog(&again), err, fmtLog(&l))
			}
		}

		want := raft.Log{Index: index, Term: term, Type: raft.LogType(typ), Data: data, Extensions: ext,
			AppendedAt: time.Unix(sec, nsec)}
		enc := encodeLog([]byte("prefix is not part of it"), &want)[len("prefix is not part of it"):]
		var got raft.Log
		if err := decodeLog(enc, &got); err != nil {
			t.Fatalf("decode of encoded %s: %v", fmtLog(&want), err)
		}
		if !logsEqual(&got, &want) {
			t.Fatalf("round trip: got %s; want %s", fmtLog(&got), fmtLog(&want))
		}
		if err := decodeLog(enc[:len(enc)-1], new(raft.Log)); err == nil {
			t.Fatalf("decode of truncated entry succeeded")
		}
	})
}
