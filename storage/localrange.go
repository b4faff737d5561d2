package storage

import (
	"fmt"

	"github.com/cockroachdb/pebble"
)

// KV is one key and value of a Local.Write batch.
type KV struct {
	Key, Value []byte
}

// Write stores every kv in one batch, not synced (see Set): node-local
// logs append many small records at once, and a batch costs one write
// to the WAL instead of one per record. Safe for concurrent use.
func (l *Local) Write(kvs []KV) error {
	pdb, err := l.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: local write: %w", err)
	}
	defer l.db.release()
	b := pdb.NewBatch()
	defer b.Close()
	for _, kv := range kvs {
		if err := b.Set(withPrefix(prefixLocal, kv.Key), kv.Value, nil); err != nil {
			return fmt.Errorf("storage: local write: %w", err)
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("storage: local write: %w", err)
	}
	return nil
}

// DeleteRange removes every key in [start, end) at the cost of one
// tombstone, for pruning ordered node-local data (logs older than their
// retention). Not synced, as Delete. Safe for concurrent use.
func (l *Local) DeleteRange(start, end []byte) error {
	pdb, err := l.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: local delete range: %w", err)
	}
	defer l.db.release()
	if err := pdb.DeleteRange(withPrefix(prefixLocal, start), withPrefix(prefixLocal, end), pebble.NoSync); err != nil {
		return fmt.Errorf("storage: local delete range: %w", err)
	}
	return nil
}

// ScanRange calls fn for every key in [lower, upper), in descending key
// order when reverse is set, else ascending, with the prefix "n/"
// stripped; a nil upper means the end of the local keyspace. It lets a
// reader start from a cursor and read newest first without walking what
// comes before. key and value are only valid during fn; an error from fn
// stops the scan and is returned as is. Safe for concurrent use.
func (l *Local) ScanRange(lower, upper []byte, reverse bool, fn func(key, value []byte) error) error {
	const op = "storage: local scan range"
	pdb, err := l.db.acquire()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer l.db.release()
	hi := prefixEnd(prefixLocal)
	if upper != nil {
		hi = withPrefix(prefixLocal, upper)
	}
	it, err := pdb.NewIter(&pebble.IterOptions{LowerBound: withPrefix(prefixLocal, lower), UpperBound: hi})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	step, valid := it.Next, it.First()
	if reverse {
		step, valid = it.Prev, it.Last()
	}
	for ; valid; valid = step() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := fn(it.Key()[len(prefixLocal):], v); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
