package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rendercache/rendercache/storage"
)

// Reader is what both *storage.State and *storage.Tx offer for reads.
type Reader interface {
	Get(key []byte) ([]byte, error)
	Scan(prefix []byte, fn func(key, value []byte) error) error
}

// Writer is what *storage.Tx offers for writes.
type Writer interface {
	Reader
	Set(key, value []byte) error
	Delete(key []byte) error
}

var (
	_ Reader = (*storage.State)(nil)
	_ Writer = (*storage.Tx)(nil)
)

// Get decodes the record at key into a T. A missing key returns notFound,
// so each resource reports its own "not found" error.
func Get[T any](r Reader, key string, notFound error) (T, error) {
	var v T
	b, err := r.Get([]byte(key))
	if errors.Is(err, storage.ErrNotFound) {
		return v, notFound
	}
	if err != nil {
		return v, fmt.Errorf("record %s: %w", key, err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("record %s: %w", key, err)
	}
	return v, nil
}

// Exists reports whether key is present.
func Exists(r Reader, key string) (bool, error) {
	_, err := r.Get([]byte(key))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record %s: %w", key, err)
	}
	return true, nil
}

// Put encodes v as JSON at key.
func Put(w Writer, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("record %s: %w", key, err)
	}
	return w.Set([]byte(key), b)
}

// List decodes every record under prefix, in key order.
func List[T any](r Reader, prefix string) ([]T, error) {
	out := []T{}
	err := r.Scan([]byte(prefix), func(k, b []byte) error {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("record %s%s: %w", prefix, k, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// Keys returns the keys under prefix with the prefix removed, in order.
// Index entries (prefix/owner/id → "") are read this way.
func Keys(r Reader, prefix string) ([]string, error) {
	var out []string
	err := r.Scan([]byte(prefix), func(k, _ []byte) error {
		out = append(out, strings.TrimPrefix(string(k), prefix))
		return nil
	})
	return out, err
}

// Count returns how many keys are under prefix.
func Count(r Reader, prefix string) (int, error) {
	n := 0
	err := r.Scan([]byte(prefix), func(_, _ []byte) error { n++; return nil })
	return n, err
}

// DeletePrefix deletes every key under prefix.
func DeletePrefix(w Writer, prefix string) error {
	keys, err := Keys(w, prefix)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := w.Delete([]byte(prefix + k)); err != nil {
			return err
		}
	}
	return nil
}

// Resolve follows an index: every key under indexPrefix names a record
// stored at recordPrefix+name. It returns the records in index order (an
// empty, non-nil slice when there are none), for "the account's domains"
// and similar lists.
func Resolve[T any](r Reader, indexPrefix, recordPrefix string, notFound error) ([]T, error) {
	names, err := Keys(r, indexPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(names))
	for _, n := range names {
		v, err := Get[T](r, recordPrefix+n, notFound)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
