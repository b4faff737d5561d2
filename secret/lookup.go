package secret

import (
	"context"
	"errors"

	"github.com/rendercache/rendercache/record"
	"github.com/rendercache/rendercache/storage"
)

// Lookup finds the record that a secret's digest points at: the state
// holds indexPrefix+digest → id and recordPrefix+id → the record. The
// record's own stored digest (hashOf) is compared with digest in constant
// time, so a corrupted index cannot authenticate the wrong secret. Every
// miss is invalid.
func Lookup[T any](r record.Reader, indexPrefix, recordPrefix, digest string, hashOf func(T) string, invalid error) (T, error) {
	var zero T
	id, err := r.Get([]byte(indexPrefix + digest))
	if errors.Is(err, storage.ErrNotFound) {
		return zero, invalid
	}
	if err != nil {
		return zero, err
	}
	v, err := record.Get[T](r, recordPrefix+string(id), invalid)
	if err != nil {
		return zero, err
	}
	if !Equal(hashOf(v), digest) {
		return zero, invalid
	}
	return v, nil
}

// LookupFresh is Lookup that, on a miss, waits for fresh (a read barrier)
// and looks once more: a secret created on another node a moment ago works
// here right after its 2xx, and known secrets never wait. Errors are
// invalid, or fresh's error when the barrier fails.
func LookupFresh[T any](ctx context.Context, fresh func(context.Context) error, r record.Reader, indexPrefix, recordPrefix, digest string, hashOf func(T) string, invalid error) (T, error) {
	v, err := Lookup(r, indexPrefix, recordPrefix, digest, hashOf, invalid)
	if !errors.Is(err, invalid) {
		return v, err
	}
	if err := fresh(ctx); err != nil {
		return v, err
	}
	return Lookup(r, indexPrefix, recordPrefix, digest, hashOf, invalid)
}
