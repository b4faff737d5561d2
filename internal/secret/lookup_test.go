package secret_test

import (
	"context"
	"errors"
	"testing"

	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/storage"
)

type stored struct{ ID, Hash string }

var errInvalid = errors.New("invalid")

// Every lookup waits for the barrier first: a secret created on another
// node arrives with it, and one deleted elsewhere is gone with it, so a
// revoked secret is refused on the very next request; a failed barrier
// refuses rather than trusting local state.
func TestLookupFresh(t *testing.T) {
	db, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	state := db.State()
	raw := secret.New("rk_test_")
	digest := secret.Hash(raw)
	barriers := 0
	// The barrier applies what the leader committed meanwhile, as raft
	// would catch this node up: first the secret's creation, then (from
	// the third barrier on) its deletion.
	fresh := func(context.Context) error {
		barriers++
		return state.Apply(uint64(barriers), func(tx *storage.Tx) error {
			if barriers >= 3 {
				return tx.Delete([]byte("idx/" + digest))
			}
			if err := record.Put(tx, "rec/k1", stored{ID: "k1", Hash: digest}); err != nil {
				return err
			}
			return tx.Set([]byte("idx/"+digest), []byte("k1"))
		})
	}
	hashOf := func(s stored) string { return s.Hash }
	ctx := context.Background()

	got, err := secret.LookupFresh(ctx, fresh, state, "idx/", "rec/", digest, hashOf, errInvalid)
	if err != nil || got.ID != "k1" || barriers != 1 {
		t.Fatalf("a secret created elsewhere: %+v, %v after %d barriers; want k1 after 1", got, err, barriers)
	}
	if _, err := secret.LookupFresh(ctx, fresh, state, "idx/", "rec/", secret.Hash("other"), hashOf, errInvalid); !errors.Is(err, errInvalid) || barriers != 2 {
		t.Fatalf("an unknown secret: %v after %d barriers; want invalid after 2", err, barriers)
	}
	if _, err := secret.LookupFresh(ctx, fresh, state, "idx/", "rec/", digest, hashOf, errInvalid); !errors.Is(err, errInvalid) || barriers != 3 {
		t.Fatalf("a secret deleted elsewhere, known locally until the barrier: %v after %d barriers; want invalid after 3", err, barriers)
	}
	down := errors.New("no leader")
	if _, err := secret.LookupFresh(ctx, func(context.Context) error { return down }, state, "idx/", "rec/", digest, hashOf, errInvalid); !errors.Is(err, down) {
		t.Fatalf("a failed barrier: %v, want its error", err)
	}
}
