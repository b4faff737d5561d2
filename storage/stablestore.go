package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble"
	"github.com/hashicorp/raft"
)

var _ raft.StableStore = (*StableStore)(nil)

// StableStore is raft's store for its current term and vote, kept under
// "s/" + key. Writes are synced before returning because raft must never
// forget a vote it cast. Safe for concurrent use.
type StableStore struct{ db *DB }

// Set stores val under key durably. Safe for concurrent use.
func (s *StableStore) Set(key, val []byte) error {
	pdb, err := s.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: stable set %q: %w", key, err)
	}
	defer s.db.release()
	if err := pdb.Set(withPrefix(prefixStable, key), val, pebble.Sync); err != nil {
		return fmt.Errorf("storage: stable set %q: %w", key, err)
	}
	return nil
}

// Get returns a copy of key's value. A missing key yields ErrNotFound
// itself, unwrapped, because raft tells "missing" from "failed" only by the
// error text being exactly "not found". Safe for concurrent use.
func (s *StableStore) Get(key []byte) ([]byte, error) {
	pdb, err := s.db.acquire()
	if err != nil {
		return nil, fmt.Errorf("storage: stable get %q: %w", key, err)
	}
	defer s.db.release()
	v, err := get(pdb, withPrefix(prefixStable, key))
	if err == ErrNotFound {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: stable get %q: %w", key, err)
	}
	return v, nil
}

// SetUint64 stores val under key as 8 big-endian bytes, durably. Safe for
// concurrent use.
func (s *StableStore) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns the value stored by SetUint64. A missing key yields
// ErrNotFound unwrapped, as for Get. Safe for concurrent use.
func (s *StableStore) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("storage: stable get %q: value is %d bytes, want 8", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
