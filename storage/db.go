package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble"
)

var (
	// ErrNotFound is returned for a missing key. Its text is exactly
	// "not found" because raft recognises a missing StableStore key only by
	// comparing err.Error() with that string; never wrap it on that path.
	ErrNotFound = errors.New("not found")
	// ErrClosed is returned (possibly wrapped) by every call made after
	// DB.Close, instead of the panic Pebble would raise.
	ErrClosed = errors.New("storage: closed")
	// ErrAlreadyApplied is returned by State.Apply for an index at or below
	// the stored applied index, so that raft replaying its log after a
	// restart does not apply an entry twice.
	ErrAlreadyApplied = errors.New("storage: already applied")

	// errTruncated reports encoded data (a log entry, a snapshot stream)
	// that ends early.
	errTruncated = errors.New("truncated")
)

// Key prefixes of the keyspaces sharing the database. Each is two bytes so
// the end of a keyspace is the prefix with '/' bumped to '0'.
var (
	prefixLog    = []byte("l/") // raft log: + 8-byte big-endian index
	prefixStable = []byte("s/") // raft stable store: + key
	prefixState  = []byte("f/") // replicated state machine: + key
	prefixLocal  = []byte("n/") // node-local, not replicated: + key

	keyApplied   = []byte("m/applied")   // uint64 big-endian: last applied raft index
	keyRestoring = []byte("m/restoring") // present while Restore rewrites "f/"
)

const defaultCacheBytes = 64 << 20

// Options for Open. The zero value is fine.
type Options struct {
	// Logger receives Pebble's own events (background errors, slow disks,
	// write stalls); nil means slog.Default().
	Logger *slog.Logger
	// CacheBytes sizes Pebble's block cache; 0 means 64 MiB.
	CacheBytes int64
}

// DB is the node's single Pebble database. All methods, and those of the
// stores it hands out, are safe for concurrent use. Close waits for calls in
// progress; calls made after it return ErrClosed.
type DB struct {
	dir string
	log *slog.Logger
	pdb *pebble.DB

	mu     sync.Mutex
	idle   sync.Cond // signalled when active drops to 0 after closing
	active int       // calls currently using pdb
	closed bool
	snaps  map[*Snapshot]struct{} // open snapshots, closed by Close

	logs   LogStore
	stable StableStore
	state  State
	local  Local
}

// Open opens (creating dir if missing) the database in dir. The directory
// belongs to the database: files other than Pebble's may be removed.
func Open(dir string, opts Options) (*DB, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	removeRestoreTemps(dir, log)

	size := opts.CacheBytes
	if size <= 0 {
		size = defaultCacheBytes
	}
	cache := pebble.NewCache(size)
	defer cache.Unref()
	po := &pebble.Options{
		Cache:              cache,
		Logger:             pebbleLogger{log},
		EventListener:      eventListener(log),
		FormatMajorVersion: pebble.FormatNewest,
	}
	pdb, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	d := &DB{dir: dir, log: log, pdb: pdb, snaps: make(map[*Snapshot]struct{})}
	d.idle.L = &d.mu
	d.logs.db = d
	d.stable.db = d
	d.state.db = d
	d.local.db = d
	if err := d.state.load(); err != nil {
		return nil, errors.Join(fmt.Errorf("storage: open %s: %w", dir, err), pdb.Close())
	}
	return d, nil
}

// Close releases the database, syncing the write-ahead log so that even
// NoSync writes (State.Apply, Local deletes) survive a clean shutdown. It
// waits for calls in progress, closes snapshots still open, and is
// idempotent: later calls return nil, while every other call returns
// ErrClosed. It must not be called from inside a Scan or Apply callback,
// which it would wait for.
func (d *DB) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	for d.active > 0 {
		d.idle.Wait()
	}
	snaps := d.snaps
	d.snaps = nil
	d.mu.Unlock()

	var errs []error
	for sn := range snaps {
		errs = append(errs, sn.release())
	}
	if err := d.pdb.Close(); err != nil {
		errs = append(errs, fmt.Errorf("storage: close: %w", err))
	}
	return errors.Join(errs...)
}

// Dir returns the directory the database lives in. Safe for concurrent use.
func (d *DB) Dir() string { return d.dir }

// LogStore returns the raft log store. Safe for concurrent use.
func (d *DB) LogStore() *LogStore { return &d.logs }

// StableStore returns raft's stable store. Safe for concurrent use.
func (d *DB) StableStore() *StableStore { return &d.stable }

// State returns the replicated state machine's keyspace. Safe for
// concurrent use.
func (d *DB) State() *State { return &d.state }

// Local returns the node-local (not replicated) keyspace. Safe for
// concurrent use.
func (d *DB) Local() *Local { return &d.local }

// acquire marks a call as using the Pebble handle so that Close waits for it.
// Every successful acquire must be paired with release. A call nested inside
// another (e.g. from a Scan callback) while Close is waiting gets ErrClosed
// rather than deadlocking.
func (d *DB) acquire() (*pebble.DB, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	d.active++
	return d.pdb, nil
}

func (d *DB) release() {
	d.mu.Lock()
	d.active--
	if d.active == 0 && d.closed {
		d.idle.Broadcast()
	}
	d.mu.Unlock()
}

// get returns a copy of key's value in r, or ErrNotFound. The copy is needed
// because Pebble's slice is only valid until its closer is closed.
func get(r pebble.Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(v))
	copy(out, v)
	if err := closer.Close(); err != nil {
		return nil, err
	}
	return out, nil
}

// scan calls fn in ascending order for every key of r under prefix, with
// the first strip bytes of the key removed. An error from fn is returned as
// is, so callers can compare it; Pebble's errors are prefixed with op.
func scan(r pebble.Reader, prefix []byte, strip int, op string, fn func(key, value []byte) error) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := fn(it.Key()[strip:], v); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// withPrefix returns prefix+key in a new slice.
func withPrefix(prefix, key []byte) []byte {
	out := make([]byte, 0, len(prefix)+len(key))
	return append(append(out, prefix...), key...)
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix, or nil if there is none, for use as an exclusive upper bound.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// removeRestoreTemps deletes spool files left by a Restore interrupted by a
// crash; they are never needed again.
func removeRestoreTemps(dir string, log *slog.Logger) {
	matches, _ := filepath.Glob(filepath.Join(dir, restoreTempPattern))
	for _, m := range matches {
		if err := os.Remove(m); err != nil {
			log.Warn("storage: remove stale restore file", "path", m, "err", err)
		}
	}
}

// pebbleLogger adapts slog to Pebble's logger.
type pebbleLogger struct{ l *slog.Logger }

// Infof carries Pebble's routine chatter (WAL recycling, table stats); it
// goes to debug so that a node's info log stays about the node.
func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
}

// Fatalf is called by Pebble on invariant violations after which it must not
// continue; like Pebble's default logger we do not return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := "pebble: " + fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic(msg)
}

// eventListener reports the Pebble events an operator can act on; routine
// flushes and compactions are left out to keep logs quiet.
func eventListener(log *slog.Logger) *pebble.EventListener {
	return &pebble.EventListener{
		BackgroundError: func(err error) { log.Error("pebble: background error", "err", err) },
		DiskSlow: func(info pebble.DiskSlowInfo) {
			log.Warn("pebble: disk slow", "info", info.String())
		},
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			log.Warn("pebble: write stall", "reason", info.Reason)
		},
		WriteStallEnd: func() { log.Info("pebble: write stall ended") },
	}
}
