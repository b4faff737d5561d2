package storage

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// openTest opens a DB in dir (a fresh temp dir if empty) and closes it when
// the test ends.
func openTest(tb testing.TB, dir string) *DB {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	d, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler), CacheBytes: 8 << 20})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return d
}

func logsEqual(a, b *raft.Log) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type &&
		bytes.Equal(a.Data, b.Data) && bytes.Equal(a.Extensions, b.Extensions) &&
		a.AppendedAt.Equal(b.AppendedAt) && a.AppendedAt.IsZero() == b.AppendedAt.IsZero()
}

func fmtLog(l *raft.Log) string {
	return fmt.Sprintf("{idx %d term %d type %v data %q ext %q at %v}", l.Index, l.Term, l.Type, l.Data, l.Extensions, l.AppendedAt)
}

func seqLogs(from, to uint64) []*raft.Log {
	var logs []*raft.Log
	for i := from; i <= to; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: 1, Data: []byte(fmt.Sprint("data", i))})
	}
	return logs
}

func wantEdges(t *testing.T, s *LogStore, first, last uint64) {
	t.Helper()
	f, err := s.FirstIndex()
	if err != nil || f != first {
		t.Errorf("FirstIndex = %d, %v; want %d", f, err, first)
	}
	l, err := s.LastIndex()
	if err != nil || l != last {
		t.Errorf("LastIndex = %d, %v; want %d", l, err, last)
	}
}

func TestLogStoreEmpty(t *testing.T) {
	s := openTest(t, "").LogStore()
	wantEdges(t, s, 0, 0)
	for _, idx := range []uint64{0, 1, math.MaxUint64} {
		if err := s.GetLog(idx, new(raft.Log)); err != raft.ErrLogNotFound {
			t.Errorf("GetLog(%d) = %v; want exactly raft.ErrLogNotFound", idx, err)
		}
	}
}

func TestLogStoreRoundTrip(t *testing.T) {
	s := openTest(t, "").LogStore()
	at := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	logs := []*raft.Log{
		{Index: 1, Term: 1, Type: raft.LogConfiguration, Data: []byte("conf")},
		{Index: 2, Term: 1, Type: raft.LogCommand, Data: []byte("cmd"), Extensions: []byte("ext"), AppendedAt: at},
		{Index: 3, Term: 2, Type: raft.LogNoop},
		{Index: 4, Term: 2, Type: raft.LogBarrier, Extensions: []byte{0, 1, 2}},
		{Index: 5, Term: math.MaxUint64, Type: raft.LogType(255), Data: bytes.Repeat([]byte{7}, 1<<20),
			AppendedAt: time.Unix(-1, 5)},
		{Index: 1 << 40, Term: 3, Data: []byte("far"), AppendedAt: time.Now()},
	}
	if err := s.StoreLogs(logs[:5]); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLog(logs[5]); err != nil {
		t.Fatal(err)
	}
	for _, want := range logs {
		var got raft.Log
		if err := s.GetLog(want.Index, &got); err != nil {
			t.Fatalf("GetLog(%d): %v", want.Index, err)
		}
		if !logsEqual(&got, want) {
			t.Errorf("GetLog(%d) = %s; want %s", want.Index, fmtLog(&got), fmtLog(want))
		}
	}
	wantEdges(t, s, 1, 1<<40)
	if err := s.GetLog(6, new(raft.Log)); err != raft.ErrLogNotFound {
		t.Errorf("GetLog in a gap = %v; want raft.ErrLogNotFound", err)
	}
}

func TestLogStoreDeleteRange(t *testing.T) {
	tests := []struct {
		name        string
		min, max    uint64
		first, last uint64
		gone        []uint64
	}{
		{"head", 1, 5, 6, 10, []uint64{1, 5}},
		{"tail", 8, 10, 1, 7, []uint64{8, 10}},
		{"single", 3, 3, 1, 10, []uint64{3}},
		{"middle", 4, 6, 1, 10, []uint64{4, 5, 6}},
		{"beyond", 9, math.MaxUint64, 1, 8, []uint64{9, 10}},
		{"all", 0, math.MaxUint64, 0, 0, []uint64{1, 10}},
		{"empty range", 5, 4, 1, 10, nil},
	}
	s := openTest(t, "").LogStore()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.DeleteRange(0, math.MaxUint64); err != nil {
				t.Fatal(err)
			}
			if err := s.StoreLogs(seqLogs(1, 10)); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteRange(tt.min, tt.max); err != nil {
				t.Fatal(err)
			}
			wantEdges(t, s, tt.first, tt.last)
			for _, idx := range tt.gone {
				if err := s.GetLog(idx, new(raft.Log)); err != raft.ErrLogNotFound {
					t.Errorf("GetLog(%d) after delete = %v; want raft.ErrLogNotFound", idx, err)
				}
			}
			for idx := tt.first; tt.first > 0 && idx <= tt.last; idx++ {
				if idx >= tt.min && idx <= tt.max {
					continue
				}
				if err := s.GetLog(idx, new(raft.Log)); err != nil {
					t.Errorf("GetLog(%d) outside deleted range: %v", idx, err)
				}
			}
		})
	}
}

func TestLogStoreReopen(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir)
	logs := seqLogs(3, 50)
	logs[0].AppendedAt = time.Now()
	if err := d.LogStore().StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if err := d.LogStore().DeleteRange(3, 4); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir).LogStore()
	wantEdges(t, s, 5, 50)
	for _, want := range logs[2:] {
		var got raft.Log
		if err := s.GetLog(want.Index, &got); err != nil || !logsEqual(&got, want) {
			t.Errorf("GetLog(%d) = %s, %v; want %s", want.Index, fmtLog(&got), err, fmtLog(want))
		}
	}
}

func TestLogCodec(t *testing.T) {
	l := &raft.Log{Index: 7, Term: 3, Type: raft.LogCommand, Data: []byte("d"), Extensions: []byte("e"), AppendedAt: time.Unix(100, 99)}
	enc := encodeLog(nil, l)
	var got raft.Log
	if err := decodeLog(enc, &got); err != nil || !logsEqual(&got, l) {
		t.Fatalf("round trip = %s, %v", fmtLog(&got), err)
	}
	enc[len(enc)-2] ^= 0xff // scribble over the time; must not alias enc
	if !bytes.Equal(got.Data, []byte("d")) {
		t.Fatal("decoded Data aliases its input")
	}
	bad := map[string][]byte{
		"empty":          nil,
		"version":        append([]byte{2}, encodeLog(nil, l)[1:]...),
		"trailing":       append(encodeLog(nil, l), 0),
		"truncated":      encodeLog(nil, l)[:5],
		"time flag":      append(encodeLog(nil, &raft.Log{})[:len(encodeLog(nil, &raft.Log{}))-1], 9),
		"nanos overflow": append(append(encodeLog(nil, &raft.Log{})[:len(encodeLog(nil, &raft.Log{}))-1], 1, 0), 0xff, 0xff, 0xff, 0xff, 0x0f),
	}
	for name, b := range bad {
		if err := decodeLog(b, new(raft.Log)); err == nil {
			t.Errorf("%s: decodeLog accepted %x", name, b)
		}
	}
}

// TestClosed checks that every call after Close fails with ErrClosed
// instead of reaching Pebble, which would panic.
func TestClosed(t *testing.T) {
	d := openTest(t, "")
	sn, err := d.State().Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	noop := func(k, v []byte) error { return nil }
	_, getErr := d.StableStore().Get([]byte("k"))
	_, u64Err := d.StableStore().GetUint64([]byte("k"))
	_, firstErr := d.LogStore().FirstIndex()
	_, lastErr := d.LogStore().LastIndex()
	_, stateGetErr := d.State().Get([]byte("k"))
	_, snapErr := d.State().Snapshot()
	_, _, hashErr := d.State().Hash()
	_, localGetErr := d.Local().Get([]byte("k"))
	_, writeErr := sn.WriteTo(new(bytes.Buffer))
	errs := map[string]error{
		"GetLog":       d.LogStore().GetLog(1, new(raft.Log)),
		"StoreLog":     d.LogStore().StoreLog(&raft.Log{Index: 1}),
		"DeleteRange":  d.LogStore().DeleteRange(1, 2),
		"FirstIndex":   firstErr,
		"LastIndex":    lastErr,
		"Stable.Set":   d.StableStore().Set([]byte("k"), nil),
		"Stable.Get":   getErr,
		"GetUint64":    u64Err,
		"SetUint64":    d.StableStore().SetUint64([]byte("k"), 1),
		"State.Get":    stateGetErr,
		"State.Scan":   d.State().Scan(nil, noop),
		"Apply":        d.State().Apply(1, func(*Tx) error { return nil }),
		"Snapshot":     snapErr,
		"Restore":      d.State().Restore(bytes.NewReader(nil)),
		"Hash":         hashErr,
		"WriteTo":      writeErr,
		"Local.Get":    localGetErr,
		"Local.Set":    d.Local().Set([]byte("k"), nil, true),
		"Local.Delete": d.Local().Delete([]byte("k")),
		"Local.Scan":   d.Local().Scan(nil, noop),
	}
	for name, err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v; want ErrClosed", name, err)
		}
	}
	if err := sn.Close(); err != nil {
		t.Errorf("Snapshot.Close after DB.Close = %v", err)
	}
}
