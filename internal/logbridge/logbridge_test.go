package logbridge

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// record is what the recording handler keeps of each slog record.
type record struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

// recorder is a slog.Handler that appends every record to a shared slice.
type recorder struct {
	mu     *sync.Mutex
	recs   *[]record
	min    slog.Level
	preset []slog.Attr
}

func newRecorder(min slog.Level) *recorder {
	return &recorder{mu: new(sync.Mutex), recs: new([]record), min: min}
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.min }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	attrs := map[string]any{}
	for _, a := range r.preset {
		attrs[a.Key] = a.Value.Any()
	}
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Any()
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.recs = append(*r.recs, record{level: rec.Level, msg: rec.Message, attrs: attrs})
	return nil
}

func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	c := *r
	c.preset = append(slices.Clone(r.preset), as...)
	return &c
}

func (r *recorder) WithGroup(string) slog.Handler { return r }

func (r *recorder) all() []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(*r.recs)
}

func TestToStdLogLevels(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		wantLevel slog.Level
		wantMsg   string
	}{
		{"debug", "[DEBUG] memberlist: Stream connection from=127.0.0.1:1\n", slog.LevelDebug, "memberlist: Stream connection from=127.0.0.1:1"},
		{"info", "[INFO] memberlist: joined\n", slog.LevelInfo, "memberlist: joined"},
		{"warn", "[WARN] memberlist: Was able to connect\n", slog.LevelWarn, "memberlist: Was able to connect"},
		{"err", "[ERR] memberlist: Failed to send\n", slog.LevelError, "memberlist: Failed to send"},
		{"error", "[ERROR] memberlist: boom\n", slog.LevelError, "memberlist: boom"},
		{"trace", "[TRACE] detail\n", LevelTrace, "detail"},
		{"no prefix is info", "plain line\n", slog.LevelInfo, "plain line"},
		{"unknown prefix kept", "[NOTICE] x\n", slog.LevelInfo, "[NOTICE] x"},
		{"crlf trimmed", "[WARN] w\r\n", slog.LevelWarn, "w"},
		{"prefix without space", "[ERR]tight", slog.LevelError, "tight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(LevelTrace)
			ToStdLog(slog.New(rec)).Print(tt.line)
			got := rec.all()
			if len(got) != 1 {
				t.Fatalf("got %d records, want 1", len(got))
			}
			if got[0].level != tt.wantLevel || got[0].msg != tt.wantMsg {
				t.Errorf("got (%v, %q), want (%v, %q)", got[0].level, got[0].msg, tt.wantLevel, tt.wantMsg)
			}
		})
	}
}

func TestToStdLogRespectsHandlerLevel(t *testing.T) {
	rec := newRecorder(slog.LevelInfo)
	l := ToStdLog(slog.New(rec))
	l.Print("[DEBUG] hidden")
	l.Print("[WARN] shown")
	got := rec.all()
	if len(got) != 1 || got[0].msg != "shown" {
		t.Fatalf("got %+v, want only the warning", got)
	}
}

func TestToHCLogLevelsAndArgs(t *testing.T) {
	tests := []struct {
		name      string
		log       func(hclog.Logger)
		wantLevel slog.Level
		wantMsg   string
		wantAttrs map[string]any
	}{
		{"trace", func(l hclog.Logger) { l.Trace("t", "k", 1) }, slog.LevelDebug - 4, "t", map[string]any{"k": int64(1)}},
		{"debug", func(l hclog.Logger) { l.Debug("d", "term", uint64(7)) }, slog.LevelDebug, "d", map[string]any{"term": uint64(7)}},
		{"info", func(l hclog.Logger) { l.Info("i", "a", "b", "c", true) }, slog.LevelInfo, "i", map[string]any{"a": "b", "c": true}},
		{"warn", func(l hclog.Logger) { l.Warn("w") }, slog.LevelWarn, "w", map[string]any{}},
		{"error", func(l hclog.Logger) { l.Error("e", "error", "boom") }, slog.LevelError, "e", map[string]any{"error": "boom"}},
		{"log at level", func(l hclog.Logger) { l.Log(hclog.Warn, "lw", "x", 2) }, slog.LevelWarn, "lw", map[string]any{"x": int64(2)}},
		{"odd args", func(l hclog.Logger) { l.Info("odd", "k", "v", "dangling") }, slog.LevelInfo, "odd", map[string]any{"k": "v", "EXTRA_VALUE_AT_END": "dangling"}},
		{"non-string key", func(l hclog.Logger) { l.Info("nk", 42, "v") }, slog.LevelInfo, "nk", map[string]any{"42": "v"}},
		{"fmt helper", func(l hclog.Logger) { l.Info("f", "addr", hclog.Fmt("%s:%d", "h", 1)) }, slog.LevelInfo, "f", map[string]any{"addr": "h:1"}},
		{"hex helper", func(l hclog.Logger) { l.Info("h", "v", hclog.Hex(255)) }, slog.LevelInfo, "h", map[string]any{"v": "0xff"}},
		{"with", func(l hclog.Logger) { l.With("peer", "n2").Info("w2", "k", "v") }, slog.LevelInfo, "w2", map[string]any{"peer": "n2", "k": "v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(LevelTrace)
			tt.log(ToHCLog(slog.New(rec), "raft"))
			got := rec.all()
			if len(got) != 1 {
				t.Fatalf("got %d records, want 1", len(got))
			}
			r := got[0]
			if r.level != tt.wantLevel || r.msg != tt.wantMsg {
				t.Errorf("got (%v, %q), want (%v, %q)", r.level, r.msg, tt.wantLevel, tt.wantMsg)
			}
			want := map[string]any{"logger": "raft"}
			for k, v := range tt.wantAttrs {
				want[k] = v
			}
			if len(r.attrs) != len(want) {
				t.Errorf("attrs = %v, want %v", r.attrs, want)
			}
			for k, v := range want {
				if r.attrs[k] != v {
					t.Errorf("attr %q = %#v, want %#v", k, r.attrs[k], v)
				}
			}
		})
	}
}

func TestToHCLogNames(t *testing.T) {
	rec := newRecorder(slog.LevelInfo)
	base := ToHCLog(slog.New(rec), "raft")
	tests := []struct {
		name string
		l    hclog.Logger
		want string
	}{
		{"base", base, "raft"},
		{"named", base.Named("net"), "raft.net"},
		{"named twice", base.Named("net").Named("pool"), "raft.net.pool"},
		{"reset", base.Named("net").ResetNamed("snap"), "snap"},
		{"unnamed parent", ToHCLog(slog.New(rec), "").Named("x"), "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.Name(); got != tt.want {
				t.Errorf("Name() = %q, want %q", got, tt.want)
			}
		})
	}
	base.Named("net").Info("hello")
	got := rec.all()
	if len(got) != 1 || got[0].attrs["logger"] != "raft.net" {
		t.Fatalf("records = %+v, want one with logger=raft.net", got)
	}
}

func TestToHCLogLevelControl(t *testing.T) {
	rec := newRecorder(slog.LevelDebug)
	l := ToHCLog(slog.New(rec), "raft")
	if got := l.GetLevel(); got != hclog.Debug {
		t.Errorf("GetLevel from handler = %v, want Debug", got)
	}
	checks := func(wantTrace, wantDebug, wantInfo, wantWarn, wantError bool) {
		t.Helper()
		got := []bool{l.IsTrace(), l.IsDebug(), l.IsInfo(), l.IsWarn(), l.IsError()}
		want := []bool{wantTrace, wantDebug, wantInfo, wantWarn, wantError}
		if !slices.Equal(got, want) {
			t.Errorf("IsTrace..IsError = %v, want %v", got, want)
		}
	}
	checks(false, true, true, true, true)

	child := l.With("k", "v").Named("c")
	l.SetLevel(hclog.Warn)
	if got := child.GetLevel(); got != hclog.Warn {
		t.Errorf("child GetLevel after SetLevel = %v, want Warn (shared)", got)
	}
	checks(false, false, false, true, true)
	child.Info("dropped")
	child.Warn("kept")
	l.SetLevel(hclog.Off)
	l.Error("dropped too")
	got := rec.all()
	if len(got) != 1 || got[0].msg != "kept" {
		t.Fatalf("records = %+v, want only \"kept\"", got)
	}
	if args := child.ImpliedArgs(); !slices.Equal(args, []any{"k", "v"}) {
		t.Errorf("ImpliedArgs = %v, want [k v]", args)
	}
}

func TestToHCLogStandardWriter(t *testing.T) {
	tests := []struct {
		name      string
		opts      *hclog.StandardLoggerOptions
		line      string
		wantLevel slog.Level
		wantMsg   string
	}{
		{"plain", nil, "[WARN] x", slog.LevelInfo, "[WARN] x"},
		{"infer", &hclog.StandardLoggerOptions{InferLevels: true}, "[WARN] x", slog.LevelWarn, "x"},
		{"infer with timestamp", &hclog.StandardLoggerOptions{InferLevels: true, InferLevelsWithTimestamp: true}, "2024/01/02 03:04:05 [ERR] y", slog.LevelError, "y"},
		{"force", &hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}, "[ERROR] z", slog.LevelDebug, "z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(LevelTrace)
			ToHCLog(slog.New(rec), "raft").StandardLogger(tt.opts).Println(tt.line)
			got := rec.all()
			if len(got) != 1 || got[0].level != tt.wantLevel || got[0].msg != tt.wantMsg {
				t.Fatalf("records = %+v, want one (%v, %q)", got, tt.wantLevel, tt.wantMsg)
			}
		})
	}
}
