// Package storage keeps all durable local state of a rendercache node — the
// raft log, raft's stable store, the replicated state machine and node-local
// data — in one Pebble database, so that a single synced write-ahead log orders
// every write and the state machine can commit without its own fsync.
package storage
