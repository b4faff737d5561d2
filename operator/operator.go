package operator

import (
	"context"
	"encoding/hex"
	"errors"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/storage"
)

const (
	cmdSetToken = "operator.set-token"
	keyToken    = "operator/token-sha256"
	// TokenPrefix marks admin tokens so that they are recognisable in
	// secret scanners.
	TokenPrefix = "rk_admin_"
)

var (
	// ErrBadHash is a stored or proposed token digest that is not a hex
	// SHA-256.
	ErrBadHash = errkind.New(errkind.Invalid, "admin token hash must be 64 lower-case hex characters")
	// ErrNoPendingReset means a data dir holds no admin-token reset.
	ErrNoPendingReset = errors.New("operator: no pending admin-token reset")
)

// Register installs the operator commands in fsm.
func Register(fsm *consensus.FSM) {
	fsm.Register(cmdSetToken, applySetToken)
}

// applySetToken replaces the replicated admin token hash. A malformed hash
// is refused, so no command can leave the cluster without a usable token
// hash.
func applySetToken(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req struct {
		Hash string `json:"hash"`
	}
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	if !validHash(req.Hash) {
		return nil, ErrBadHash
	}
	return nil, tx.Set([]byte(keyToken), []byte(req.Hash))
}

// validHash reports whether h is a digest as secret.Hash writes it.
func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	b, err := hex.DecodeString(h)
	return err == nil && hex.EncodeToString(b) == h
}

// Auth checks admin tokens against the token configured on this node (if
// any) and the replicated hash. Safe for concurrent use.
type Auth struct {
	state      *storage.State
	configured string // secret.Hash of the node's --admin-token, or ""
}

// NewAuth returns an Auth over the replicated state. configuredToken is the
// node's --admin-token, or "".
func NewAuth(state *storage.State, configuredToken string) *Auth {
	a := &Auth{state: state}
	if configuredToken != "" {
		a.configured = secret.Hash(configuredToken)
	}
	return a
}

// Check reports whether token is a valid admin token. It compares SHA-256
// digests in constant time. Once the cluster holds a token hash, that hash
// alone decides: a node's --admin-token counts only while none is
// replicated yet (a bootstrap before its first commit, a joining node
// catching up), so a reset (or any replacement) ends the old token on
// every node, including the nodes that were started with it.
func (a *Auth) Check(token string) bool {
	if token == "" {
		return false
	}
	got := secret.Hash(token)
	v, err := a.state.Get([]byte(keyToken))
	switch {
	case err == nil:
		return secret.Equal(got, string(v))
	case errors.Is(err, storage.ErrNotFound):
		return a.configured != "" && secret.Equal(got, a.configured)
	}
	return false
}

// Superseded reports whether the cluster holds an admin token hash that
// token (a node's --admin-token) does not match: such a token is not
// accepted (see Check), and the node says so at start.
func Superseded(state *storage.State, token string) bool {
	if token == "" {
		return false
	}
	v, err := state.Get([]byte(keyToken))
	return err == nil && !secret.Equal(secret.Hash(token), string(v))
}

// StoreToken replicates the hash of token so that every node accepts it
// and the token it replaces stops working.
func StoreToken(ctx context.Context, raft consensus.Applier, token string) error {
	return storeHash(ctx, raft, secret.Hash(token))
}

// storeHash replicates a token digest.
func storeHash(ctx context.Context, raft consensus.Applier, hash string) error {
	_, err := consensus.Propose(ctx, raft, "store admin token", cmdSetToken, 1, map[string]string{"hash": hash})
	return err
}

// NewToken returns a fresh admin token from the CSPRNG.
func NewToken() string { return secret.New(TokenPrefix) }
