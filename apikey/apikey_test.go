package apikey

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/consensus/consensustest"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/plan"
)

func TestValidate(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Minute), now.Add(-time.Minute)
	tests := []struct {
		name      string
		in        NewKeyInput
		wantRoles []string
		wantErr   error // nil: accepted; else matched by kind and message
	}{
		{"name only", NewKeyInput{Name: "ci"}, []string{}, nil},
		{"roles sorted once", NewKeyInput{Name: "ci", Roles: []string{"script", "script"}}, []string{"script"}, nil},
		{"future expiry", NewKeyInput{Name: "ci", ExpiresAt: &later}, []string{}, nil},
		{"no name", NewKeyInput{}, nil, account.CheckName("name", "")},
		{"long name", NewKeyInput{Name: strings.Repeat("k", 101)}, nil, account.CheckName("name", strings.Repeat("k", 101))},
		{"control character", NewKeyInput{Name: "ci\r\n"}, nil, account.CheckName("name", "ci\r\n")},
		{"unknown role", NewKeyInput{Name: "ci", Roles: []string{"admin"}}, nil, ErrUnknownRole},
		{"expiry now", NewKeyInput{Name: "ci", ExpiresAt: &now}, nil, ErrBadExpiry},
		{"expiry past", NewKeyInput{Name: "ci", ExpiresAt: &earlier}, nil, ErrBadExpiry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			err := (&Service{}).validate(&in, now)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || errkind.KindOf(err) != errkind.Invalid {
					t.Fatalf("validate: %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(in.Roles, tt.wantRoles) {
				t.Fatalf("validate: %v, roles %#v; want %#v", err, in.Roles, tt.wantRoles)
			}
		})
	}
}

type fixture struct {
	*consensustest.Node
	ctx      context.Context
	accounts *account.Service
	keys     *Service
	now      time.Time
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	fx.Node = consensustest.Start(t, func(fsm *consensus.FSM) {
		account.Register(fsm, DeleteForAccount)
		Register(fsm)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	fx.ctx = ctx
	fx.accounts = account.NewService(fx.Raft, fx.State, plan.Defaults())
	fx.keys = NewService(fx.Raft, fx.State, quiet())
	fx.keys.now = func() time.Time { return fx.now }
	return fx
}

func (fx *fixture) account(t *testing.T, email string) account.Account {
	t.Helper()
	a, err := fx.accounts.Create(fx.ctx, email, "agency")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (fx *fixture) create(t *testing.T, accountID string, in NewKeyInput) Created {
	t.Helper()
	c, err := fx.keys.Create(fx.ctx, accountID, in)
	if err != nil {
		t.Fatalf("create key %q: %v", in.Name, err)
	}
	return c
}

// A key is shown once; only its digest is stored, under the hash index
// that authentication reads.
func TestCreateStoresOnlyTheDigest(t *testing.T) {
	fx := newFixture(t)
	a := fx.account(t, "keys@example.com")
	for _, test := range []bool{false, true} {
		c := fx.create(t, a.ID, NewKeyInput{Name: fmt.Sprint("test=", test), Test: test})
		prefix, mode := LivePrefix, "live"
		if test {
			prefix, mode = TestPrefix, "test"
		}
		if !secret.HasShape(c.Key, prefix) {
			t.Fatalf("key %q does not have the %s shape", c.Key, prefix)
		}
		k, err := record.Get[Key](fx.State, prefixKey+c.ID, ErrNotFound)
		if err != nil {
			t.Fatal(err)
		}
		if k.Hash != secret.Hash(c.Key) || k.Mode != mode || k.AccountID != a.ID || k.Hint != secret.Hint(c.Key) {
			t.Fatalf("stored %+v", k)
		}
		id, err := fx.State.Get([]byte(prefixHash + k.Hash))
		if err != nil || string(id) != c.ID {
			t.Fatalf("hash index: %q, %v", id, err)
		}
	}
	views, err := fx.keys.List(fx.ctx, a.ID)
	if err != nil || len(views) != 2 {
		t.Fatalf("list: %+v, %v", views, err)
	}
	fx.RequireDeterministic(t)
}

// An account holds at most MaxLiveKeys live keys: expired keys (as of the
// new key's creation) and test keys do not count, and revoking frees a
// slot.
func TestLiveKeyLimit(t *testing.T) {
	fx := newFixture(t)
	a := fx.account(t, "limit@example.com")
	soon := fx.now.Add(time.Hour)
	var ids []string
	for i := range MaxLiveKeys {
		in := NewKeyInput{Name: fmt.Sprint("k", i)}
		if i == 0 {
			in.ExpiresAt = &soon
		}
		ids = append(ids, fx.create(t, a.ID, in).ID)
	}
	_, err := fx.keys.Create(fx.ctx, a.ID, NewKeyInput{Name: "one too many"})
	if !errors.Is(err, ErrLimit) || fmt.Sprint(errkind.Of(err).Fields["current"], errkind.Of(err).Fields["allowed"]) != "5 5" {
		t.Fatalf("sixth live key: %#v", errkind.Of(err))
	}
	fx.create(t, a.ID, NewKeyInput{Name: "test keys are not limited", Test: true})

	fx.now = soon // the first key has expired: its slot is free
	fx.create(t, a.ID, NewKeyInput{Name: "after expiry"})
	if _, err := fx.keys.Create(fx.ctx, a.ID, NewKeyInput{Name: "full again"}); !errors.Is(err, ErrLimit) {
		t.Fatalf("live keys past the limit after an expiry: %v", err)
	}
	if err := fx.keys.Revoke(fx.ctx, a.ID, ids[1]); err != nil {
		t.Fatal(err)
	}
	fx.create(t, a.ID, NewKeyInput{Name: "after revoke"})

	// Another account's limit is its own.
	b := fx.account(t, "other@example.com")
	fx.create(t, b.ID, NewKeyInput{Name: "b's first"})
	fx.RequireDeterministic(t)
}

// Only the owner revokes a key; revoking removes the record and both
// indexes; IDs that cannot be keys, and accounts that cannot exist, never
// reach raft.
func TestRevokeAndOwnership(t *testing.T) {
	fx := newFixture(t)
	a, b := fx.account(t, "a@example.com"), fx.account(t, "b@example.com")
	c := fx.create(t, a.ID, NewKeyInput{Name: "a's"})
	if err := fx.keys.Revoke(fx.ctx, b.ID, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke by another account: %v", err)
	}
	if views, _ := fx.keys.List(fx.ctx, b.ID); len(views) != 0 {
		t.Fatalf("b lists a's key: %+v", views)
	}
	if err := fx.keys.Revoke(fx.ctx, a.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{prefixKey + c.ID, prefixHash + secret.Hash(c.Key), prefixAccount + a.ID + "/" + c.ID} {
		if ok, _ := record.Exists(fx.State, k); ok {
			t.Errorf("%s left behind after revoke", k)
		}
	}
	if err := fx.keys.Revoke(fx.ctx, a.ID, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	if _, err := fx.keys.Create(fx.ctx, "acct_000000000000000000000000", NewKeyInput{Name: "x"}); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("key for an unknown account: %v", err)
	}

	before := fx.State.AppliedIndex()
	for _, id := range []string{"", "key_", "key_zz", strings.Repeat("k", 500_000)} {
		if err := fx.keys.Revoke(fx.ctx, a.ID, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoke %.20q: %v", id, err)
		}
		if _, err := fx.keys.Create(fx.ctx, id, NewKeyInput{Name: "x"}); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("create for account %.20q: %v", id, err)
		}
	}
	if _, err := fx.keys.Create(fx.ctx, a.ID, NewKeyInput{Name: strings.Repeat("n", 500_000)}); errkind.KindOf(err) != errkind.Invalid {
		t.Errorf("oversized name: %v", err)
	}
	if after := fx.State.AppliedIndex(); after != before {
		t.Fatalf("refused requests reached raft: applied index %d → %d", before, after)
	}
	fx.RequireDeterministic(t)
}

// lastUsedAt only moves forward; a key revoked before its touch is
// skipped; a failed flush keeps the uses for the next one.
func TestTouchIsMonotonic(t *testing.T) {
	fx := newFixture(t)
	a := fx.account(t, "touch@example.com")
	k1, k2 := fx.create(t, a.ID, NewKeyInput{Name: "one"}), fx.create(t, a.ID, NewKeyInput{Name: "two"})
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	lastUsed := func(id string) *time.Time {
		k, err := record.Get[Key](fx.State, prefixKey+id, ErrNotFound)
		if err != nil {
			t.Fatal(err)
		}
		return k.LastUsedAt
	}
	flush := func(touches map[string]time.Time) {
		t.Helper()
		fx.keys.mu.Lock()
		fx.keys.touched = touches
		fx.keys.mu.Unlock()
		fx.keys.flush(fx.ctx)
		fx.keys.mu.Lock()
		defer fx.keys.mu.Unlock()
		if len(fx.keys.touched) != 0 {
			t.Fatalf("uses left after a flush: %v", fx.keys.touched)
		}
	}
	flush(map[string]time.Time{k1.ID: t0.Add(time.Minute)})
	if got := lastUsed(k1.ID); got == nil || !got.Equal(t0.Add(time.Minute)) || lastUsed(k2.ID) != nil {
		t.Fatalf("first touch: %v, %v", got, lastUsed(k2.ID))
	}
	flush(map[string]time.Time{k1.ID: t0, k2.ID: t0}) // k1's is older: ignored
	if got := lastUsed(k1.ID); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("an older touch moved lastUsedAt back to %v", got)
	}
	if got := lastUsed(k2.ID); got == nil || !got.Equal(t0) {
		t.Fatalf("k2: %v", got)
	}
	if err := fx.keys.Revoke(fx.ctx, a.ID, k2.ID); err != nil {
		t.Fatal(err)
	}
	flush(map[string]time.Time{k2.ID: t0.Add(time.Hour), k1.ID: t0.Add(time.Hour)})
	if got := lastUsed(k1.ID); !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("a revoked key in the batch stopped the others: %v", got)
	}
	if ok, _ := record.Exists(fx.State, prefixKey+k2.ID); ok {
		t.Fatal("a touch brought a revoked key back")
	}

	// A flush that cannot reach raft keeps the newest use of each key.
	dead, cancel := context.WithDeadline(fx.ctx, time.Now().Add(-time.Second))
	defer cancel()
	fx.keys.mu.Lock()
	fx.keys.touched = map[string]time.Time{k1.ID: t0.Add(2 * time.Hour)}
	fx.keys.mu.Unlock()
	fx.keys.flush(dead)
	fx.keys.mu.Lock()
	kept := fx.keys.touched[k1.ID]
	fx.keys.mu.Unlock()
	if !kept.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("a failed flush lost the use: %v", kept)
	}
	fx.RequireDeterministic(t)
}

// Deleting an account deletes its keys and their hash index entries, and
// no other account's.
func TestDeleteForAccount(t *testing.T) {
	fx := newFixture(t)
	a, b := fx.account(t, "gone@example.com"), fx.account(t, "stays@example.com")
	ka := fx.create(t, a.ID, NewKeyInput{Name: "a"})
	kb := fx.create(t, b.ID, NewKeyInput{Name: "b"})
	if err := fx.accounts.Delete(fx.ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{prefixKey + ka.ID, prefixHash + secret.Hash(ka.Key), prefixAccount + a.ID + "/" + ka.ID} {
		if ok, _ := record.Exists(fx.State, k); ok {
			t.Errorf("%s outlived its account", k)
		}
	}
	if ok, _ := record.Exists(fx.State, prefixHash+secret.Hash(kb.Key)); !ok {
		t.Error("another account's key went with it")
	}
	fx.RequireDeterministic(t)
}
