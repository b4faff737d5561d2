package storage

import (
	"fmt"

	"github.com/cockroachdb/pebble"
)

// Local is the node-local keyspace under "n/": data that is not replicated
// (page store, counters) and so can use cheaper write durability than the
// state machine. Safe for concurrent use.
type Local struct{ db *DB }

// Get returns a copy of key's value, or ErrNotFound. Safe for concurrent
// use.
func (l *Local) Get(key []byte) ([]byte, error) {
	pdb, err := l.db.acquire()
	if err != nil {
		return nil, fmt.Errorf("storage: local get: %w", err)
	}
	defer l.db.release()
	v, err := get(pdb, withPrefix(prefixLocal, key))
	if err != nil && err != ErrNotFound {
		return nil, fmt.Errorf("storage: local get: %w", err)
	}
	return v, err
}

// Set stores key=value. With sync it is durable on return; without, it
// becomes durable with the next synced write to the DB (any raft log
// append) or Close, and may be lost in a crash before that — fine for
// data that can be recomputed. Safe for concurrent use.
func (l *Local) Set(key, value []byte, sync bool) error {
	pdb, err := l.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: local set: %w", err)
	}
	defer l.db.release()
	if err := pdb.Set(withPrefix(prefixLocal, key), value, writeOpts(sync)); err != nil {
		return fmt.Errorf("storage: local set: %w", err)
	}
	return nil
}

// Delete removes key; a missing key is not an error. It is not synced: a
// crash may resurrect the key until the next synced write, which local
// data (a cache) tolerates. Safe for concurrent use.
func (l *Local) Delete(key []byte) error {
	pdb, err := l.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: local delete: %w", err)
	}
	defer l.db.release()
	if err := pdb.Delete(withPrefix(prefixLocal, key), pebble.NoSync); err != nil {
		return fmt.Errorf("storage: local delete: %w", err)
	}
	return nil
}

// Scan calls fn in ascending key order for every key starting with prefix,
// over a consistent point-in-time view, with the prefix "n/" stripped. key
// and value are only valid during fn; an error from fn stops the scan and
// is returned as is. Safe for concurrent use; fn may call other methods.
func (l *Local) Scan(prefix []byte, fn func(key, value []byte) error) error {
	pdb, err := l.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: local scan: %w", err)
	}
	defer l.db.release()
	return scan(pdb, withPrefix(prefixLocal, prefix), len(prefixLocal), "storage: local scan", fn)
}

func writeOpts(sync bool) *pebble.WriteOptions {
	if sync {
		return pebble.Sync
	}
	return pebble.NoSync
}
