package secret

import (
	"context"
	"errors"

	"github.com/rendercache/rendercache/internal/record"
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

// LookupFresh waits for fresh (a read barrier) and then looks the secret
// up: the answer reflects every write acknowledged before the call on any
// node. A secret created elsewhere a moment ago therefore works here, and
// one revoked, rotated or deleted elsewhere never works again once that
// change returned 2xx, not even for one request. Under a read scope the
// barrier is shared with the request's other reads
// (consensus.WithReadScope). Errors are invalid, or fresh's error when the
// barrier fails, so a node that cannot reach the leader refuses
// credentials rather than trust stale state.
func LookupFresh[T any](ctx context.Context, fresh func(context.Context) error, r record.Reader, indexPrefix, recordPrefix, digest string, hashOf func(T) string, invalid error) (T, error) {
	if err := fresh(ctx); err != nil {
		var zero T
		return zero, err
	}
	return Lookup(r, indexPrefix, recordPrefix, digest, hashOf, invalid)
}
