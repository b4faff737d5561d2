package storage

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble"
)

// Limits on state keys and values. Restore enforces them on untrusted
// streams, so Tx.Set enforces them too: a snapshot that cannot be restored
// would strand every follower that needs it.
const (
	maxKeyLen   = 1 << 20
	maxValueLen = 256 << 20
)

// State is the replicated state machine's keyspace. Callers' keys live under
// "f/"; the raft index the state reflects lives in "m/applied" and is
// committed in the same batch as the writes of that index, so after a crash
// state and index always agree. Safe for concurrent use; Apply and Restore
// are serialised with each other.
type State struct {
	db      *DB
	applyMu sync.Mutex // serialises Apply and Restore
	applied atomic.Uint64
}

// load finishes an interrupted Restore and caches the applied index; Open
// calls it before the DB is shared.
func (s *State) load() error {
	pdb := s.db.pdb
	_, err := get(pdb, keyRestoring)
	switch {
	case err == nil:
		// A Restore died half-way: "f/" holds part of the new state and
		// the applied index is gone. Start from empty; raft will install
		// the snapshot again or replay its log.
		s.db.log.Warn("storage: discarding state of an interrupted restore", "dir", s.db.dir)
		if err := s.discard(pdb); err != nil {
			return fmt.Errorf("discard interrupted restore: %w", err)
		}
	case err != ErrNotFound:
		return fmt.Errorf("read restore marker: %w", err)
	}
	idx, err := readApplied(pdb)
	if err != nil {
		return err
	}
	s.applied.Store(idx)
	return nil
}

// resetState adds to b the removal of every state key and the applied index.
func resetState(b *pebble.Batch) error {
	if err := b.DeleteRange(prefixState, prefixEnd(prefixState), nil); err != nil {
		return err
	}
	return b.Delete(keyApplied, nil)
}

// readApplied returns the applied index stored in r, 0 if none.
func readApplied(r pebble.Reader) (uint64, error) {
	v, err := get(r, keyApplied)
	if err == ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read applied index: %w", err)
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("read applied index: value is %d bytes, want 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Get returns a copy of key's value, or ErrNotFound. It reads committed
// state only. Safe for concurrent use.
func (s *State) Get(key []byte) ([]byte, error) {
	pdb, err := s.db.acquire()
	if err != nil {
		return nil, fmt.Errorf("storage: state get: %w", err)
	}
	defer s.db.release()
	v, err := get(pdb, withPrefix(prefixState, key))
	if err != nil && err != ErrNotFound {
		return nil, fmt.Errorf("storage: state get: %w", err)
	}
	return v, err
}

// Scan calls fn in ascending key order for every committed key starting
// with prefix, over a consistent point-in-time view. key and value are only
// valid during fn. An error from fn stops the scan and is returned as is.
// Safe for concurrent use; fn may call other methods of the DB.
func (s *State) Scan(prefix []byte, fn func(key, value []byte) error) error {
	pdb, err := s.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: state scan: %w", err)
	}
	defer s.db.release()
	return scan(pdb, withPrefix(prefixState, prefix), len(prefixState), "storage: state scan", fn)
}

// AppliedIndex returns the raft index the committed state reflects, 0 for
// none. Safe for concurrent use.
func (s *State) AppliedIndex() uint64 { return s.applied.Load() }

// Apply runs fn for raft entry index and commits its writes atomically with
// the new applied index. If fn fails its writes are dropped but index is
// still recorded, because a deterministic failure is the entry's outcome on
// every replica; fn's error is then returned as is. An index at or below the
// applied index returns ErrAlreadyApplied without calling fn. Safe for
// concurrent use; calls are serialised, so fn must not call Apply or
// Restore.
//
// The commit is not synced. Raft synced the entry into this same
// write-ahead log before handing it to Apply, and Pebble's log is written in
// order, so a crash can only lose a suffix of applied writes whose entries
// are still in the log; the applied index then points before them and raft
// replays them. Syncing here would double the fsyncs on the write path for
// nothing. (Raft truncates its log with a synced write, which also makes
// every earlier apply durable.)
func (s *State) Apply(index uint64, fn func(tx *Tx) error) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	pdb, err := s.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: apply %d: %w", index, err)
	}
	defer s.db.release()
	if applied := s.applied.Load(); index <= applied {
		return fmt.Errorf("storage: apply %d (applied %d): %w", index, applied, ErrAlreadyApplied)
	}

	b := pdb.NewIndexedBatch()
	defer b.Close()
	if fnErr := runTx(b, fn); fnErr != nil {
		nb := pdb.NewBatch()
		defer nb.Close()
		if err := s.commitApplied(nb, index); err != nil {
			return errors.Join(fnErr, err)
		}
		return fnErr
	}
	return s.commitApplied(b, index)
}

// runTx runs fn on a Tx over b and retires the Tx however fn ends, so the
// batch is never touched after Apply closes it.
func runTx(b *pebble.Batch, fn func(tx *Tx) error) error {
	tx := &Tx{b: b}
	tx.idle.L = &tx.mu
	defer tx.finish()
	return fn(tx)
}

func (s *State) commitApplied(b *pebble.Batch, index uint64) error {
	if err := b.Set(keyApplied, binary.BigEndian.AppendUint64(nil, index), nil); err != nil {
		return fmt.Errorf("storage: apply %d: %w", index, err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("storage: apply %d: commit: %w", index, err)
	}
	s.applied.Store(index)
	return nil
}

// Hash returns a SHA-256 over every state key and value (each
// uvarint-length-prefixed, in key order) and the applied index of the same
// point-in-time view, so replicas can be compared. Safe for concurrent use.
func (s *State) Hash() (sum [32]byte, applied uint64, err error) {
	pdb, err := s.db.acquire()
	if err != nil {
		return sum, 0, fmt.Errorf("storage: hash: %w", err)
	}
	defer s.db.release()
	ps := pdb.NewSnapshot()
	defer ps.Close()
	if applied, err = readApplied(ps); err != nil {
		return sum, 0, fmt.Errorf("storage: hash: %w", err)
	}
	h := sha256.New()
	var lenBuf [binary.MaxVarintLen64]byte
	err = scan(ps, prefixState, len(prefixState), "storage: hash", func(k, v []byte) error {
		h.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(k)))])
		h.Write(k)
		h.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(v)))])
		h.Write(v)
		return nil
	})
	if err != nil {
		return sum, 0, err
	}
	h.Sum(sum[:0])
	return sum, applied, nil
}

// Tx is the state as seen from inside Apply: reads see the Tx's own
// uncommitted writes. It is valid only until fn returns; later calls return
// an error wrapping ErrClosed. Safe for concurrent use, and fn passed to
// Scan may itself write to the Tx (the scan does not see those writes).
type Tx struct {
	mu    sync.Mutex
	idle  sync.Cond // signalled when scans drops to 0 after done
	b     *pebble.Batch
	done  bool
	scans int // Scan calls holding an iterator on b
}

// finish retires the Tx, waiting for scans in other goroutines to let go
// of their iterators before the batch can be closed.
func (t *Tx) finish() {
	t.mu.Lock()
	t.done = true
	for t.scans > 0 {
		t.idle.Wait()
	}
	t.mu.Unlock()
}

func errTxDone(op string) error {
	return fmt.Errorf("storage: tx %s: used after Apply returned: %w", op, ErrClosed)
}

// Get returns a copy of key's value including this Tx's writes, or
// ErrNotFound. Safe for concurrent use.
func (t *Tx) Get(key []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, errTxDone("get")
	}
	v, err := get(t.b, withPrefix(prefixState, key))
	if err != nil && err != ErrNotFound {
		return nil, fmt.Errorf("storage: tx get: %w", err)
	}
	return v, err
}

// Set stages key=value; it becomes visible to others when Apply commits.
// Keys over 1 MiB and values over 256 MiB are refused so that every
// snapshot stays restorable. Safe for concurrent use.
func (t *Tx) Set(key, value []byte) error {
	if len(key) > maxKeyLen || len(value) > maxValueLen {
		return fmt.Errorf("storage: tx set: key of %d bytes or value of %d bytes over the limit", len(key), len(value))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errTxDone("set")
	}
	if err := t.b.Set(withPrefix(prefixState, key), value, nil); err != nil {
		return fmt.Errorf("storage: tx set: %w", err)
	}
	return nil
}

// Delete stages the removal of key; deleting a missing key is not an error.
// Safe for concurrent use.
func (t *Tx) Delete(key []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errTxDone("delete")
	}
	if err := t.b.Delete(withPrefix(prefixState, key), nil); err != nil {
		return fmt.Errorf("storage: tx delete: %w", err)
	}
	return nil
}

// Scan calls fn in ascending key order for every key starting with prefix,
// as of the call, including this Tx's earlier writes. key and value are
// only valid during fn; an error from fn stops the scan and is returned as
// is. fn may call Set and Delete, e.g. to remove what it visits. Safe for
// concurrent use.
func (t *Tx) Scan(prefix []byte, fn func(key, value []byte) error) error {
	lower := withPrefix(prefixState, prefix)
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return errTxDone("scan")
	}
	it, err := t.b.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		t.mu.Unlock()
		return fmt.Errorf("storage: tx scan: %w", err)
	}
	t.scans++
	t.mu.Unlock()

	// The lock is held only while moving the iterator, so fn can use the
	// Tx; finish waits for scans to end before the batch is closed.
	var fnErr, iterErr error
	step := it.First
	for {
		t.mu.Lock()
		if t.done {
			t.mu.Unlock()
			iterErr = errTxDone("scan")
			break
		}
		ok := step()
		var k, v []byte
		if ok {
			k = it.Key()[len(prefixState):]
			v, iterErr = it.ValueAndErr()
		}
		t.mu.Unlock()
		if !ok || iterErr != nil {
			break
		}
		if fnErr = fn(k, v); fnErr != nil {
			break
		}
		step = it.Next
	}

	t.mu.Lock()
	cerr := it.Close()
	t.scans--
	if t.scans == 0 && t.done {
		t.idle.Broadcast()
	}
	t.mu.Unlock()
	switch {
	case fnErr != nil:
		return fnErr
	case iterErr != nil && errors.Is(iterErr, ErrClosed):
		return iterErr
	case iterErr != nil:
		return fmt.Errorf("storage: tx scan: %w", iterErr)
	case cerr != nil:
		return fmt.Errorf("storage: tx scan: %w", cerr)
	}
	return nil
}
