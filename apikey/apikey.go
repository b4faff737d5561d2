package apikey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/storage"
)

// Key prefixes: live keys for production traffic, test keys for the asset
// CDN's test mode.
const (
	LivePrefix = "rk_live_"
	TestPrefix = "rk_test_"
)

// MaxLiveKeys is how many unexpired live keys an account may hold.
const MaxLiveKeys = 5

// Roles that the operator may grant. "script" allows the Script API.
var knownRoles = []string{"script"}

var (
	// ErrRequired is the seed's 401 for a request without a key.
	ErrRequired = errkind.New(errkind.Unauthorized, "API key required")
	// ErrInvalid is the seed's 401 for a wrong, revoked or expired key.
	ErrInvalid = errkind.New(errkind.Unauthorized, "Invalid API key")
	// ErrNotFound means the key does not exist or is another account's.
	ErrNotFound = errkind.New(errkind.NotFound, "API key not found")
	// ErrLimit means the account already holds MaxLiveKeys live keys.
	ErrLimit = errkind.New(errkind.Forbidden, "API key limit reached for your account")
	// ErrUnknownRole means a role is not one the system knows.
	ErrUnknownRole = errkind.New(errkind.Invalid, "unknown role; known roles: script")
	// ErrBadExpiry means expiresAt is not in the future.
	ErrBadExpiry = errkind.New(errkind.Invalid, `field "expiresAt" must be an RFC 3339 time in the future`)
	// ErrBadMode means a key request's mode is neither "live" nor "test".
	ErrBadMode = errkind.New(errkind.Invalid, `field "mode" must be "live" or "test"`)
)

// Key is a stored API key: its digest, never the key itself.
type Key struct {
	View
	AccountID string `json:"accountId"`
	Hash      string `json:"hash"`
}

// View is a key as listings show it: no secret, no digest.
type View struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Hint       string     `json:"hint"`
	Mode       string     `json:"mode"`
	Roles      []string   `json:"roles"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

// Created is the one response that carries the raw key.
type Created struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Key       string     `json:"key"`
	Roles     []string   `json:"roles"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

// expired reports whether k is past its expiry at t.
func (k Key) expired(t time.Time) bool { return k.ExpiresAt != nil && !t.Before(*k.ExpiresAt) }

// State keys.
const (
	prefixKey     = "apikey/"      // apikey/<id> → Key
	prefixHash    = "apikey-hash/" // apikey-hash/<sha256> → id
	prefixAccount = "apikey-acct/" // apikey-acct/<account>/<id> → ""
)

const (
	cmdCreate = "apikey.create"
	cmdRevoke = "apikey.revoke"
	cmdTouch  = "apikey.touch"
)

// Register installs the key commands in fsm.
func Register(fsm *consensus.FSM) {
	fsm.Register(cmdCreate, applyCreate)
	fsm.Register(cmdRevoke, applyRevoke)
	fsm.Register(cmdTouch, applyTouch)
}

// DeleteForAccount is the account.Cascade that removes an account's keys.
func DeleteForAccount(tx *storage.Tx, accountID string) error {
	ids, err := record.Keys(tx, prefixAccount+accountID+"/")
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := deleteKey(tx, accountID, id); err != nil {
			return err
		}
	}
	return nil
}

var _ account.Cascade = DeleteForAccount

// NewKeyInput is what a key is created from.
type NewKeyInput struct {
	Name      string
	Roles     []string
	ExpiresAt *time.Time
	Test      bool
}

func (s *Service) validate(in *NewKeyInput, now time.Time) error {
	if err := account.CheckName("name", in.Name); err != nil {
		return err
	}
	for _, r := range in.Roles {
		if !slices.Contains(knownRoles, r) {
			return ErrUnknownRole
		}
	}
	if in.Roles == nil {
		in.Roles = []string{}
	}
	slices.Sort(in.Roles)
	in.Roles = slices.Compact(in.Roles)
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return ErrBadExpiry
	}
	return nil
}

// Create issues a key for an account and returns it with the raw key, the
// only time the key is ever shown.
func (s *Service) Create(ctx context.Context, accountID string, in NewKeyInput) (Created, error) {
	if !account.ValidID(accountID) {
		return Created{}, account.ErrNotFound
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := s.validate(&in, now); err != nil {
		return Created{}, err
	}
	prefix, mode := LivePrefix, "live"
	if in.Test {
		prefix, mode = TestPrefix, "test"
	}
	raw := secret.New(prefix)
	k := Key{AccountID: accountID, Hash: secret.Hash(raw), View: View{ID: newID(), Name: in.Name, Hint: secret.Hint(raw),
		Mode: mode, Roles: in.Roles, CreatedAt: now, ExpiresAt: in.ExpiresAt}}
	if _, err := consensus.Propose(ctx, s.raft, "create key", cmdCreate, 1, k); err != nil {
		return Created{}, err
	}
	return Created{ID: k.ID, Name: k.Name, Key: raw, Roles: k.Roles, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt}, nil
}

// List returns an account's keys without secrets, seeing every write
// acknowledged before the call.
func (s *Service) List(ctx context.Context, accountID string) ([]View, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return nil, err
	}
	keys, err := record.Resolve[Key](s.state, prefixAccount+accountID+"/", prefixKey, ErrNotFound)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.View)
	}
	return out, nil
}

// Revoke deletes an account's key. Another account's key is ErrNotFound.
func (s *Service) Revoke(ctx context.Context, accountID, id string) error {
	if !validID(id) {
		return ErrNotFound
	}
	if _, err := consensus.Propose(ctx, s.raft, "revoke key", cmdRevoke, 1, map[string]string{"accountId": accountID, "id": id}); err != nil {
		return err
	}
	return nil
}

func applyCreate(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var k Key
	if err := cmd.Decode(&k); err != nil {
		return nil, err
	}
	if _, err := account.Lookup(tx, k.AccountID); err != nil {
		return nil, err
	}
	if k.Mode == "live" {
		live := 0
		others, err := record.Resolve[Key](tx, prefixAccount+k.AccountID+"/", prefixKey, ErrNotFound)
		if err != nil {
			return nil, err
		}
		for _, other := range others {
			// The command's own time keeps the check deterministic.
			if other.Mode == "live" && !other.expired(k.CreatedAt) {
				live++
			}
		}
		if live >= MaxLiveKeys {
			return nil, ErrLimit.With(map[string]any{"current": live, "allowed": MaxLiveKeys})
		}
	}
	if err := record.Put(tx, prefixKey+k.ID, k); err != nil {
		return nil, err
	}
	if err := tx.Set([]byte(prefixHash+k.Hash), []byte(k.ID)); err != nil {
		return nil, err
	}
	return nil, tx.Set([]byte(prefixAccount+k.AccountID+"/"+k.ID), nil)
}

func applyRevoke(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req struct{ AccountID, ID string }
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	return nil, deleteKey(tx, req.AccountID, req.ID)
}

func deleteKey(tx *storage.Tx, accountID, id string) error {
	k, err := record.Get[Key](tx, prefixKey+id, ErrNotFound)
	if err != nil {
		return err
	}
	if k.AccountID != accountID {
		return ErrNotFound
	}
	for _, key := range []string{prefixKey + id, prefixHash + k.Hash, prefixAccount + accountID + "/" + id} {
		if err := tx.Delete([]byte(key)); err != nil {
			return err
		}
	}
	return nil
}

// touch is one key's last use, batched by the Toucher.
type touch struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}

func applyTouch(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req struct {
		Touches []touch `json:"touches"`
	}
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	for _, t := range req.Touches {
		k, err := record.Get[Key](tx, prefixKey+t.ID, ErrNotFound)
		if err != nil {
			continue // revoked meanwhile
		}
		if k.LastUsedAt != nil && !t.At.After(*k.LastUsedAt) {
			continue
		}
		at := t.At
		k.LastUsedAt = &at
		if err := record.Put(tx, prefixKey+k.ID, k); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

const (
	idPrefix = "key_"
	idBytes  = 10
)

func newID() string {
	var b [idBytes]byte
	rand.Read(b[:])
	return idPrefix + hex.EncodeToString(b[:])
}

// validID reports whether id has the shape of a key ID; Revoke refuses
// others as not found rather than writing them into the raft log.
func validID(id string) bool {
	h, ok := strings.CutPrefix(id, idPrefix)
	_, err := hex.DecodeString(h)
	return ok && len(h) == 2*idBytes && err == nil
}
