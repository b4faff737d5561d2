package logbridge

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// nameKey is the slog attribute that carries an hclog logger's name.
const nameKey = "logger"

var _ hclog.Logger = (*hcLogger)(nil)

// ToHCLog returns an hclog.Logger (for hashicorp/raft) that forwards to l.
// Levels map Trace→LevelTrace (slog.LevelDebug-4), Debug, Info, Warn and
// Error to their slog namesakes; key/value args become slog attributes, and
// a non-empty name is attached as the "logger" attribute ("raft.net" after
// Named). SetLevel adds a filter on top of l's handler and is shared by
// every logger derived through With/Named/ResetNamed, as in hclog; until it
// is called the handler alone decides. A nil l means slog.Default(). The
// returned logger is safe for concurrent use.
func ToHCLog(l *slog.Logger, name string) hclog.Logger {
	if l == nil {
		l = slog.Default()
	}
	lv := new(atomic.Int32)
	lv.Store(int32(hclog.NoLevel))
	return &hcLogger{base: l, name: name, level: lv}
}

// hcLogger implements hclog.Logger on top of a *slog.Logger. It is
// immutable apart from the shared level.
type hcLogger struct {
	base    *slog.Logger // carries the implied args as attributes
	name    string
	implied []any
	level   *atomic.Int32 // hclog.Level; NoLevel defers to the handler
}

// enabled reports whether a record at level would be written.
func (h *hcLogger) enabled(level hclog.Level) bool {
	if level == hclog.Off {
		return false
	}
	floor := hclog.Level(h.level.Load())
	if floor == hclog.Off || (floor != hclog.NoLevel && level != hclog.NoLevel && level < floor) {
		return false
	}
	return h.base.Enabled(context.Background(), toSlog(level))
}

// Log writes msg at level with args as key/value pairs. Off drops it and
// NoLevel logs at Info.
func (h *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	if !h.enabled(level) {
		return
	}
	attrs := make([]slog.Attr, 0, 1+len(args)/2)
	if h.name != "" {
		attrs = append(attrs, slog.String(nameKey, h.name))
	}
	attrs = appendAttrs(attrs, args)
	h.base.LogAttrs(context.Background(), toSlog(level), msg, attrs...)
}

func (h *hcLogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hcLogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hcLogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hcLogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hcLogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hcLogger) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *hcLogger) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *hcLogger) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *hcLogger) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *hcLogger) IsError() bool { return h.enabled(hclog.Error) }

// ImpliedArgs returns the key/value pairs added by With, oldest first.
func (h *hcLogger) ImpliedArgs() []any {
	return append([]any(nil), h.implied...)
}

// With returns a logger that adds args to every record.
func (h *hcLogger) With(args ...any) hclog.Logger {
	c := *h
	c.implied = append(append([]any(nil), h.implied...), args...)
	c.base = h.base.With(attrsToAny(appendAttrs(nil, args))...)
	return &c
}

// Name returns the logger's dotted name.
func (h *hcLogger) Name() string { return h.name }

// Named returns a logger whose name is this one's plus "." plus name.
func (h *hcLogger) Named(name string) hclog.Logger {
	c := *h
	if h.name != "" && name != "" {
		c.name = h.name + "." + name
	} else if name != "" {
		c.name = name
	}
	return &c
}

// ResetNamed returns a logger called exactly name.
func (h *hcLogger) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

// SetLevel sets the minimum level for this logger and every logger derived
// from the same ToHCLog call. NoLevel removes the filter.
func (h *hcLogger) SetLevel(level hclog.Level) { h.level.Store(int32(level)) }

// GetLevel returns the level set by SetLevel or, if none, the lowest level
// the slog handler accepts (Off if it accepts none).
func (h *hcLogger) GetLevel() hclog.Level {
	if lv := hclog.Level(h.level.Load()); lv != hclog.NoLevel {
		return lv
	}
	for _, lv := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.base.Enabled(context.Background(), toSlog(lv)) {
			return lv
		}
	}
	return hclog.Off
}

// StandardLogger returns a *log.Logger writing through this logger; see
// StandardWriter for how opts are honoured.
func (h *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

// StandardWriter returns a writer that logs each line written to it. With
// opts.ForceLevel every line is logged at that level (a "[LEVEL]" marker is
// stripped); with opts.InferLevels the marker picks the level, after
// skipping a leading timestamp if opts.InferLevelsWithTimestamp; otherwise
// lines are logged verbatim at Info.
func (h *hcLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	w := &hcWriter{h: h}
	if opts != nil {
		w.opts = *opts
	}
	return w
}

type hcWriter struct {
	h    *hcLogger
	opts hclog.StandardLoggerOptions
}

func (w *hcWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), " \t\r\n")
	switch {
	case w.opts.ForceLevel != hclog.NoLevel:
		_, msg, _ := parseLevel(line, hclog.Info)
		w.h.Log(w.opts.ForceLevel, msg)
	case w.opts.InferLevels:
		if w.opts.InferLevelsWithTimestamp {
			line = strings.TrimLeft(line, "0123456789 \t:/.+-TZ")
		}
		level, msg, _ := parseLevel(line, hclog.Info)
		w.h.Log(level, msg)
	default:
		w.h.Log(hclog.Info, line)
	}
	return len(p), nil
}

// appendAttrs converts hclog key/value args to slog attributes. A trailing
// value without a key is kept under "EXTRA_VALUE_AT_END", as hclog does.
func appendAttrs(attrs []slog.Attr, args []any) []slog.Attr {
	for i := 0; i < len(args); i += 2 {
		if i+1 == len(args) {
			attrs = append(attrs, slog.Any("EXTRA_VALUE_AT_END", value(args[i])))
			break
		}
		key, ok := args[i].(string)
		if !ok {
			key = fmt.Sprint(args[i])
		}
		attrs = append(attrs, slog.Any(key, value(args[i+1])))
	}
	return attrs
}

// value renders hclog's formatting helper types the way hclog would.
func value(v any) any {
	switch v := v.(type) {
	case hclog.Format:
		if len(v) == 0 {
			return ""
		}
		if f, ok := v[0].(string); ok {
			return fmt.Sprintf(f, v[1:]...)
		}
		return fmt.Sprint(v...)
	case hclog.Hex:
		return "0x" + strconv.FormatInt(int64(v), 16)
	case hclog.Octal:
		return "0" + strconv.FormatInt(int64(v), 8)
	case hclog.Binary:
		return "0b" + strconv.FormatInt(int64(v), 2)
	case hclog.Quote:
		return strconv.Quote(string(v))
	default:
		return v
	}
}

func attrsToAny(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}
