package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/storage"
)

// TokenPrefix starts every webhook token.
const TokenPrefix = "rk_wh_"

// MaxTokensPerDomain is the seed's limit.
const MaxTokensPerDomain = 5

var (
	// ErrPlan is the seed's 403 for plans without webhook tokens.
	ErrPlan = errkind.New(errkind.Forbidden, "Webhook tokens are available on Agency plans and above")
	// ErrLimit means the domain already has MaxTokensPerDomain tokens.
	ErrLimit = errkind.New(errkind.Forbidden, "Webhook token limit reached for this domain")
	// ErrNotFound means no such token on the caller's domain.
	ErrNotFound = errkind.New(errkind.NotFound, "Webhook token not found")
	// ErrInvalid is the 401 for a wrong or revoked webhook token.
	ErrInvalid = errkind.New(errkind.Unauthorized, "Invalid webhook token")
)

// Token is a stored webhook token: a digest, never the token.
type Token struct {
	View
	Domain    string `json:"domain"`
	AccountID string `json:"accountId"`
	Hash      string `json:"hash"`
}

// View is a token as listings show it.
type View struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Hint      string    `json:"hint"`
	CreatedAt time.Time `json:"createdAt"`
}

// Created is the one response that carries the raw token.
type Created struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"createdAt"`
}

const (
	prefixToken  = "whtoken/"      // whtoken/<id> → Token
	prefixHash   = "whtoken-hash/" // whtoken-hash/<sha256> → id
	prefixDomain = "whtoken-dom/"  // whtoken-dom/<domain>/<id> → ""

	cmdCreate = "webhook.token.create"
	cmdRevoke = "webhook.token.revoke"
)

// Register installs the token commands in fsm.
func Register(fsm *consensus.FSM) {
	fsm.Register(cmdCreate, applyCreate)
	fsm.Register(cmdRevoke, func(tx *storage.Tx, cmd consensus.Command) (any, error) {
		var req struct{ AccountID, Domain, ID string }
		if err := cmd.Decode(&req); err != nil {
			return nil, err
		}
		t, err := record.Get[Token](tx, prefixToken+req.ID, ErrNotFound)
		if err != nil {
			return nil, err
		}
		if t.AccountID != req.AccountID || t.Domain != req.Domain {
			return nil, ErrNotFound
		}
		return nil, deleteToken(tx, t)
	})
}

// DeleteForDomain is the domain.Cascade that removes a domain's tokens.
func DeleteForDomain(tx *storage.Tx, host string) error {
	tokens, err := record.Resolve[Token](tx, prefixDomain+host+"/", prefixToken, ErrNotFound)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if err := deleteToken(tx, t); err != nil {
			return err
		}
	}
	return nil
}

var _ domain.Cascade = DeleteForDomain

func deleteToken(tx *storage.Tx, t Token) error {
	for _, k := range []string{prefixToken + t.ID, prefixHash + t.Hash, prefixDomain + t.Domain + "/" + t.ID} {
		if err := tx.Delete([]byte(k)); err != nil {
			return err
		}
	}
	return nil
}

// Service manages webhook tokens. Safe for concurrent use.
type Service struct {
	raft  consensus.Proposer
	state *storage.State
	now   func() time.Time
}

// NewService returns a token service.
func NewService(raft consensus.Proposer, state *storage.State) *Service {
	return &Service{raft: raft, state: state, now: time.Now}
}

// Create issues a token for a domain the caller owns (checked by the
// caller with domain.Owned) on a plan p.
func (s *Service) Create(ctx context.Context, d domain.Domain, p plan.Plan, name string) (Created, error) {
	if !p.WebhookTokens {
		return Created{}, ErrPlan
	}
	if err := account.CheckName("name", name); err != nil {
		return Created{}, err
	}
	raw := secret.New(TokenPrefix)
	t := Token{Domain: d.Domain, AccountID: d.AccountID, Hash: secret.Hash(raw),
		View: View{ID: newID(), Name: name, Hint: secret.Hint(raw), CreatedAt: s.now().UTC().Truncate(time.Millisecond)}}
	if _, err := consensus.Propose(ctx, s.raft, "create webhook token", cmdCreate, 1, t); err != nil {
		return Created{}, err
	}
	return Created{ID: t.ID, Name: t.Name, Token: raw, CreatedAt: t.CreatedAt}, nil
}

// List returns a domain's tokens without secrets, from local state: d
// comes from a fresh read (domain.Service.Get), whose barrier covers the
// tokens too, so a second one would only cost another round trip.
func (s *Service) List(_ context.Context, d domain.Domain) ([]View, error) {
	tokens, err := record.Resolve[Token](s.state, prefixDomain+d.Domain+"/", prefixToken, ErrNotFound)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, t.View)
	}
	return out, nil
}

// Revoke deletes a token of the caller's domain.
func (s *Service) Revoke(ctx context.Context, d domain.Domain, id string) error {
	if !validID(id) {
		return ErrNotFound
	}
	if _, err := consensus.Propose(ctx, s.raft, "revoke webhook token", cmdRevoke, 1, map[string]string{"accountId": d.AccountID, "domain": d.Domain, "id": id}); err != nil {
		return err
	}
	return nil
}

// Principal is an authenticated webhook token and the account owning it,
// read together so that the caller can check the account's plan on every
// use without another barrier.
type Principal struct {
	Token   Token
	Account account.Account
}

// Authenticate returns the token a raw webhook token belongs to, read
// after a freshness barrier: a token created elsewhere moments ago works,
// and one deleted (or whose account was deleted or downgraded) anywhere is
// refused once that change returned 2xx. A token whose account is gone is
// ErrInvalid.
func (s *Service) Authenticate(ctx context.Context, raw string) (Principal, error) {
	if !secret.HasShape(raw, TokenPrefix) {
		return Principal{}, ErrInvalid
	}
	t, err := secret.LookupFresh(ctx, s.raft.Fresh, s.state, prefixHash, prefixToken, secret.Hash(raw), func(t Token) string { return t.Hash }, ErrInvalid)
	if err != nil {
		return Principal{}, err
	}
	a, err := account.Lookup(s.state, t.AccountID)
	if err != nil {
		return Principal{}, ErrInvalid
	}
	return Principal{Token: t, Account: a}, nil
}

func applyCreate(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var t Token
	if err := cmd.Decode(&t); err != nil {
		return nil, err
	}
	if _, err := domain.OwnedNormal(tx, t.AccountID, t.Domain); err != nil {
		return nil, err
	}
	n, err := record.Count(tx, prefixDomain+t.Domain+"/")
	if err != nil {
		return nil, err
	}
	if n >= MaxTokensPerDomain {
		return nil, ErrLimit.With(map[string]any{"current": n, "allowed": MaxTokensPerDomain})
	}
	if err := record.Put(tx, prefixToken+t.ID, t); err != nil {
		return nil, err
	}
	if err := tx.Set([]byte(prefixHash+t.Hash), []byte(t.ID)); err != nil {
		return nil, err
	}
	return nil, tx.Set([]byte(prefixDomain+t.Domain+"/"+t.ID), nil)
}

const (
	idPrefix = "wht_"
	idBytes  = 10
)

func newID() string {
	var b [idBytes]byte
	rand.Read(b[:])
	return idPrefix + hex.EncodeToString(b[:])
}

// validID reports whether id has the shape of a token ID; Revoke refuses
// others as not found rather than writing them into the raft log.
func validID(id string) bool {
	h, ok := strings.CutPrefix(id, idPrefix)
	_, err := hex.DecodeString(h)
	return ok && len(h) == 2*idBytes && err == nil
}
