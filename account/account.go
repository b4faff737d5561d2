package account

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/storage"
)

var (
	// ErrNotFound means no account has the ID.
	ErrNotFound = errkind.New(errkind.NotFound, "account not found")
	// ErrEmailTaken means another account already uses the email.
	ErrEmailTaken = errkind.New(errkind.Conflict, "an account with this email already exists")
	// ErrBadEmail means the email address does not parse or is too long.
	ErrBadEmail = errkind.New(errkind.Invalid, "email must be a valid address such as ops@example.com, at most 254 bytes")
	// ErrUnknownPlan means the plan is not in the node's catalog.
	ErrUnknownPlan = errkind.New(errkind.Invalid, "unknown plan")
)

// Account is a customer of the cluster.
type Account struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Plan      string    `json:"plan"`
	CreatedAt time.Time `json:"createdAt"`
}

// Command types owned by this package.
const (
	cmdCreate  = "account.create"
	cmdDelete  = "account.delete"
	cmdSetPlan = "account.set-plan"
)

// Keys in the replicated state.
const (
	prefixAccount = "account/"
	prefixEmail   = "account-email/"
)

// Service creates, reads and deletes accounts. Writes go through raft;
// reads wait for freshness and then read local state. Safe for concurrent
// use.
type Service struct {
	raft  consensus.Proposer
	state *storage.State
	plans plan.Catalog
	now   func() time.Time
}

// NewService returns a service that proposes through raft, reads state and
// validates plans against plans.
func NewService(raft consensus.Proposer, state *storage.State, plans plan.Catalog) *Service {
	return &Service{raft: raft, state: state, plans: plans, now: time.Now}
}

// Cascade deletes what a resource package keeps for an account, inside the
// account's delete transaction, so that no orphan keys or domains outlive
// it.
type Cascade func(tx *storage.Tx, accountID string) error

// Register installs the account commands in fsm. cascades run, in order,
// when an account is deleted.
func Register(fsm *consensus.FSM, cascades ...Cascade) {
	fsm.Register(cmdCreate, applyCreate)
	fsm.Register(cmdDelete, func(tx *storage.Tx, cmd consensus.Command) (any, error) {
		return applyDelete(tx, cmd, cascades)
	})
	fsm.Register(cmdSetPlan, applySetPlan)
}

// Bounds of an email address (RFC 5321): the whole address, and its part
// before the "@".
const (
	MaxEmailBytes      = 254
	MaxEmailLocalBytes = 64
)

// NormalizeEmail validates an address and returns its canonical form
// (trimmed, lowercased), which is what uniqueness is checked on. A bare
// addr-spec is required: no display name, no comments, no quoting, no
// control characters, at most MaxEmailBytes.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxEmailBytes || !utf8.ValidString(s) {
		return "", ErrBadEmail
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", ErrBadEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > MaxEmailLocalBytes {
		return "", ErrBadEmail
	}
	return strings.ToLower(s), nil
}

// Create adds an account on a plan from the catalog.
func (s *Service) Create(ctx context.Context, email, planName string) (Account, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return Account{}, err
	}
	if _, err := s.plans.Lookup(planName); err != nil {
		return Account{}, s.unknownPlan()
	}
	a := Account{ID: newID(), Email: email, Plan: planName, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if _, err := consensus.Propose(ctx, s.raft, "create account", cmdCreate, 1, a); err != nil {
		return Account{}, err
	}
	return a, nil
}

func (s *Service) unknownPlan() error {
	return ErrUnknownPlan.With(map[string]any{"plans": s.plans.Names()})
}

// SetPlan moves an account to another plan of the catalog.
func (s *Service) SetPlan(ctx context.Context, id, planName string) (Account, error) {
	if !ValidID(id) {
		return Account{}, ErrNotFound
	}
	if _, err := s.plans.Lookup(planName); err != nil {
		return Account{}, s.unknownPlan()
	}
	raw, err := consensus.Propose(ctx, s.raft, "set plan", cmdSetPlan, 1, map[string]string{"id": id, "plan": planName})
	if err != nil {
		return Account{}, err
	}
	var a Account
	if err := json.Unmarshal(raw, &a); err != nil {
		return Account{}, fmt.Errorf("set plan: decode: %w", err)
	}
	return a, nil
}

// Delete removes an account.
func (s *Service) Delete(ctx context.Context, id string) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	if _, err := consensus.Propose(ctx, s.raft, "delete account", cmdDelete, 1, map[string]string{"id": id}); err != nil {
		return err
	}
	return nil
}

// Get returns an account, seeing every write acknowledged before the call.
func (s *Service) Get(ctx context.Context, id string) (Account, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return Account{}, err
	}
	return Lookup(s.state, id)
}

// List returns every account ordered by ID, seeing every write acknowledged
// before the call.
func (s *Service) List(ctx context.Context) ([]Account, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return nil, err
	}
	return record.List[Account](s.state, prefixAccount)
}

// Lookup reads an account from local state without a freshness barrier; hot
// paths such as key checks use it.
func Lookup(r record.Reader, id string) (Account, error) {
	return record.Get[Account](r, prefixAccount+id, ErrNotFound)
}

func applyCreate(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var a Account
	if err := cmd.Decode(&a); err != nil {
		return nil, err
	}
	if taken, err := record.Exists(tx, prefixEmail+a.Email); err != nil || taken {
		return nil, errors.Join(err, ErrEmailTaken)
	}
	if dup, err := record.Exists(tx, prefixAccount+a.ID); err != nil || dup {
		return nil, errors.Join(err, errkind.New(errkind.Conflict, "account ID already exists"))
	}
	if err := record.Put(tx, prefixAccount+a.ID, a); err != nil {
		return nil, err
	}
	return a, tx.Set([]byte(prefixEmail+a.Email), []byte(a.ID))
}

func applyDelete(tx *storage.Tx, cmd consensus.Command, cascades []Cascade) (any, error) {
	var req struct {
		ID string `json:"id"`
	}
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	a, err := Lookup(tx, req.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range cascades {
		if err := c(tx, a.ID); err != nil {
			return nil, err
		}
	}
	if err := tx.Delete([]byte(prefixAccount + a.ID)); err != nil {
		return nil, err
	}
	return nil, tx.Delete([]byte(prefixEmail + a.Email))
}

func applySetPlan(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req struct {
		ID   string `json:"id"`
		Plan string `json:"plan"`
	}
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	a, err := Lookup(tx, req.ID)
	if err != nil {
		return nil, err
	}
	a.Plan = req.Plan
	return a, record.Put(tx, prefixAccount+a.ID, a)
}

const (
	idPrefix = "acct_"
	idBytes  = 12
)

// newID returns a random account ID. IDs are chosen before proposal so that
// Apply stays deterministic.
func newID() string {
	var b [idBytes]byte
	rand.Read(b[:])
	return idPrefix + hex.EncodeToString(b[:])
}

// ValidID reports whether id has the shape of an account ID. Services
// refuse other IDs as not found before proposing, so that a caller cannot
// put an arbitrary string into the raft log.
func ValidID(id string) bool {
	h, ok := strings.CutPrefix(id, idPrefix)
	_, err := hex.DecodeString(h)
	return ok && len(h) == 2*idBytes && err == nil
}
