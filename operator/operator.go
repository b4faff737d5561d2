package operator

import (
	"context"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/secret"
	"github.com/rendercache/rendercache/storage"
)

const (
	cmdSetToken = "operator.set-token"
	keyToken    = "operator/token-sha256"
	// TokenPrefix marks admin tokens so that they are recognisable in
	// secret scanners.
	TokenPrefix = "rk_admin_"
)

// Register installs the operator commands in fsm.
func Register(fsm *consensus.FSM) {
	fsm.Register(cmdSetToken, func(tx *storage.Tx, cmd consensus.Command) (any, error) {
		var req struct {
			Hash string `json:"hash"`
		}
		if err := cmd.Decode(&req); err != nil {
			return nil, err
		}
		return nil, tx.Set([]byte(keyToken), []byte(req.Hash))
	})
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
// digests in constant time.
func (a *Auth) Check(token string) bool {
	if token == "" {
		return false
	}
	got := secret.Hash(token)
	ok := a.configured != "" && secret.Equal(got, a.configured)
	if v, err := a.state.Get([]byte(keyToken)); err == nil && secret.Equal(got, string(v)) {
		ok = true
	}
	return ok
}

// StoreToken replicates the hash of token so that every node accepts it.
func StoreToken(ctx context.Context, raft consensus.Applier, token string) error {
	_, err := consensus.Propose(ctx, raft, "store admin token", cmdSetToken, 1, map[string]string{"hash": secret.Hash(token)})
	return err
}

// NewToken returns a fresh admin token from the CSPRNG.
func NewToken() string { return secret.New(TokenPrefix) }
