// Package logbridge adapts the loggers that third-party libraries demand
// (memberlist's *log.Logger, raft's hclog.Logger) to log/slog in one place,
// so every component's output shares one handler, one format and one level.
package logbridge
