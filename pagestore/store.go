package pagestore

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rendercache/rendercache/storage"
)

// Local keyspace layout:
//
//	l2/v/<key>                 → 8-byte big-endian expiry (unix ns) ++ value
//	l2/i/<key>                 → 8-byte expiry ++ 8-byte value size (listing, sizing)
//	l2/x/<16 hex expiry>/<key> → ""   (expiry order: sweeping and eviction)
//
// The small index entries let listings and the start-up count run over
// keys without reading page bodies.
const (
	prefixValue  = "l2/v/"
	prefixIndex  = "l2/i/"
	prefixExpiry = "l2/x/"
	expiryHex    = 16
)

// Store is a bounded, expiring key/value store for rendered pages. Keys are
// strings whose prefixes group them (a domain, a version) so that Scan can
// list a domain's pages. Safe for concurrent use.
type Store struct {
	local *storage.Local
	limit int64
	now   func() time.Time

	mu    sync.Mutex // serialises writers so size stays exact
	size  int64      // bytes of keys and values held
	count int64
}

// Options tune a Store.
type Options struct {
	// Limit bounds the bytes held (keys plus values); past it the entries
	// closest to expiry are evicted. Zero or less means 1 GiB.
	Limit int64
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
}

// Open returns the store over local, counting what a previous run left.
func Open(local *storage.Local, o Options) (*Store, error) {
	if o.Limit <= 0 {
		o.Limit = 1 << 30
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Store{local: local, limit: o.Limit, now: o.Now}
	err := local.Scan([]byte(prefixIndex), func(k, v []byte) error {
		if len(v) == 16 {
			s.size += entrySize(len(k)-len(prefixIndex), int(binary.BigEndian.Uint64(v[8:])))
			s.count++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pagestore: open: %w", err)
	}
	return s, nil
}

func entrySize(keyLen, valueLen int) int64 { return int64(keyLen + valueLen) }

// Get returns key's value, or ok=false when it is absent or expired.
func (s *Store) Get(key string) (value []byte, expires time.Time, ok bool, err error) {
	raw, err := s.local.Get([]byte(prefixValue + key))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("pagestore: get: %w", err)
	}
	exp, v, ok := split(raw)
	if !ok || !s.now().Before(exp) {
		return nil, time.Time{}, false, nil
	}
	return v, exp, true, nil
}

func split(raw []byte) (time.Time, []byte, bool) {
	if len(raw) < 8 {
		return time.Time{}, nil, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(raw))), raw[8:], true
}

// Put stores value under key until expires, replacing any older value, and
// evicts the soonest-expiring entries while the store is over its limit.
// Writes are not synced: a crash may lose the last few, which are then
// rendered again.
func (s *Store) Put(key string, value []byte, expires time.Time) error {
	if strings.ContainsRune(key, 0) {
		return errors.New("pagestore: key contains NUL")
	}
	raw := make([]byte, 8+len(value))
	binary.BigEndian.PutUint64(raw, uint64(expires.UnixNano()))
	copy(raw[8:], value)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.deleteLocked(key); err != nil {
		return err
	}
	if err := s.local.Set([]byte(prefixValue+key), raw, false); err != nil {
		return fmt.Errorf("pagestore: put: %w", err)
	}
	if err := s.local.Set(expiryKey(expires, key), nil, false); err != nil {
		return fmt.Errorf("pagestore: put: %w", err)
	}
	idx := make([]byte, 16)
	binary.BigEndian.PutUint64(idx, uint64(expires.UnixNano()))
	binary.BigEndian.PutUint64(idx[8:], uint64(len(value)))
	if err := s.local.Set([]byte(prefixIndex+key), idx, false); err != nil {
		return fmt.Errorf("pagestore: put: %w", err)
	}
	s.size += entrySize(len(key), len(value))
	s.count++
	return s.evictLocked()
}

func expiryKey(t time.Time, key string) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano()))
	return []byte(prefixExpiry + hex.EncodeToString(b[:]) + "/" + key)
}

// Delete removes key; a missing key is not an error. It reports whether
// the key was there.
func (s *Store) Delete(key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.count
	err := s.deleteLocked(key)
	return s.count < before, err
}

// index reads key's index entry: its expiry and value size, without
// reading the page.
func (s *Store) index(key string) (exp time.Time, size int, ok bool, err error) {
	idx, err := s.local.Get([]byte(prefixIndex + key))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && len(idx) != 16) {
		return time.Time{}, 0, false, nil
	}
	if err != nil {
		return time.Time{}, 0, false, err
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(idx))), int(binary.BigEndian.Uint64(idx[8:])), true, nil
}

func (s *Store) deleteLocked(key string) error {
	exp, size, ok, err := s.index(key)
	if err != nil {
		return fmt.Errorf("pagestore: delete: %w", err)
	}
	if !ok {
		return nil
	}
	if err := s.local.Delete([]byte(prefixValue + key)); err != nil {
		return fmt.Errorf("pagestore: delete: %w", err)
	}
	if err := s.local.Delete(expiryKey(exp, key)); err != nil {
		return fmt.Errorf("pagestore: delete: %w", err)
	}
	if err := s.local.Delete([]byte(prefixIndex + key)); err != nil {
		return fmt.Errorf("pagestore: delete: %w", err)
	}
	s.size -= entrySize(len(key), size)
	s.count--
	return nil
}

// errStop ends a scan early.
var errStop = errors.New("stop")

// evictLocked drops the soonest-expiring entries until the store fits.
func (s *Store) evictLocked() error {
	if s.size <= s.limit {
		return nil
	}
	var victims []string
	excess := s.size - s.limit
	err := s.local.Scan([]byte(prefixExpiry), func(k, _ []byte) error {
		key := string(k[len(prefixExpiry)+expiryHex+1:])
		victims = append(victims, key)
		if _, size, ok, err := s.index(key); err == nil && ok {
			excess -= entrySize(len(key), size)
		}
		if excess <= 0 {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("pagestore: evict: %w", err)
	}
	for _, k := range victims {
		if err := s.deleteLocked(k); err != nil {
			return err
		}
	}
	return nil
}

// Sweep deletes every entry that has expired and returns how many.
func (s *Store) Sweep() (int, error) {
	now := s.now()
	var expired []string
	err := s.local.Scan([]byte(prefixExpiry), func(k, _ []byte) error {
		h := k[len(prefixExpiry) : len(prefixExpiry)+expiryHex]
		var b [8]byte
		if _, err := hex.Decode(b[:], h); err != nil {
			return nil
		}
		if time.Unix(0, int64(binary.BigEndian.Uint64(b[:]))).After(now) {
			return errStop
		}
		expired = append(expired, string(k[len(prefixExpiry)+expiryHex+1:]))
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return 0, fmt.Errorf("pagestore: sweep: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range expired {
		if err := s.deleteLocked(k); err != nil {
			return 0, err
		}
	}
	return len(expired), nil
}

// Entry describes one stored page without its value.
type Entry struct {
	Key     string
	Size    int
	Expires time.Time
}

// Scan calls fn, in key order, for live entries whose key starts with
// prefix and sorts after `after` (for pagination; "" starts at the
// beginning). It stops after limit entries (limit <= 0: no limit) or when fn
// returns false, and reports whether entries remain.
func (s *Store) Scan(prefix, after string, limit int, fn func(Entry) bool) (more bool, err error) {
	now := s.now()
	n := 0
	err = s.local.Scan([]byte(prefixIndex+prefix), func(k, v []byte) error {
		key := k[len(prefixIndex):]
		if after != "" && bytes.Compare(key, []byte(after)) <= 0 {
			return nil
		}
		if len(v) != 16 {
			return nil
		}
		exp := time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		size := int(binary.BigEndian.Uint64(v[8:]))
		if !now.Before(exp) {
			return nil
		}
		if limit > 0 && n == limit {
			more = true
			return errStop
		}
		n++
		if !fn(Entry{Key: string(key), Size: size, Expires: exp}) {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, fmt.Errorf("pagestore: scan: %w", err)
	}
	return more, nil
}

// DeletePrefix removes every entry whose key starts with prefix and
// returns how many live entries it removed.
func (s *Store) DeletePrefix(prefix string) (int, error) {
	var keys []string
	if _, err := s.Scan(prefix, "", 0, func(e Entry) bool { keys = append(keys, e.Key); return true }); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if err := s.deleteLocked(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// Size returns the bytes held and the number of entries.
func (s *Store) Size() (bytes, entries int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size, s.count
}
