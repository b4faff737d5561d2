package logbridge

import (
	"context"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// LevelTrace is the slog level that hclog's Trace and "[TRACE] " lines map
// to: one step below slog.LevelDebug.
const LevelTrace = slog.LevelDebug - 4

// prefixes are the level markers hashicorp libraries put at the start of
// standard-library log lines, longest first where one is a prefix of another.
var prefixes = []struct {
	text  string
	level hclog.Level
}{
	{"[TRACE]", hclog.Trace},
	{"[DEBUG]", hclog.Debug},
	{"[INFO]", hclog.Info},
	{"[WARN]", hclog.Warn},
	{"[ERROR]", hclog.Error},
	{"[ERR]", hclog.Error},
}

// toSlog maps an hclog level to its slog level. NoLevel means Info.
func toSlog(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return LevelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// parseLevel splits a leading "[LEVEL] " marker off line. Lines without a
// marker are reported at def with ok false.
func parseLevel(line string, def hclog.Level) (level hclog.Level, msg string, ok bool) {
	for _, p := range prefixes {
		if rest, found := strings.CutPrefix(line, p.text); found {
			return p.level, strings.TrimLeft(rest, " "), true
		}
	}
	return def, line, false
}

// ToStdLog returns a *log.Logger (for memberlist's Config.Logger) that parses
// memberlist's "[DEBUG] " / "[INFO] " / "[WARN] " / "[ERR] " / "[ERROR] "
// prefixes (and "[TRACE] ") into slog levels and writes to l, with the
// prefix removed and trailing newlines trimmed. Lines without a prefix are
// logged at Info. A nil l means slog.Default(). The returned logger is safe
// for concurrent use.
func ToStdLog(l *slog.Logger) *log.Logger {
	if l == nil {
		l = slog.Default()
	}
	return log.New(&stdWriter{l: l}, "", 0)
}

// stdWriter receives one formatted line per Write from a *log.Logger.
type stdWriter struct {
	l *slog.Logger
}

func (w *stdWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\r\n")
	hl, msg, _ := parseLevel(line, hclog.Info)
	level := toSlog(hl)
	ctx := context.Background()
	if w.l.Enabled(ctx, level) {
		w.l.Log(ctx, level, msg)
	}
	return len(p), nil
}
