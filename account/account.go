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

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/errkind"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/storage"
)

var (
	// ErrNotFound means no account has the ID.
	ErrNotFound = errkind.New(errkind.NotFound, "account not found")
	// ErrEmailTaken means another account already uses the email.
	ErrEmailTaken = errkind.New(errkind.Conflict, "an account with this email already exists")
	// ErrBadEmail means the email address does not parse.
	ErrBadEmail = errkind.New(errkind.Invalid, "email must be a valid address such as ops@example.com")
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

// Proposer is the slice of consensus the service needs: replicated writes
// and read-your-writes barriers. *consensus.Raft satisfies it.
type Proposer interface {
	Apply(ctx context.Context, cmd consensus.Command) (json.RawMessage, error)
	Fresh(ctx context.Context) error
}

var _ Proposer = (*consensus.Raft)(nil)

// Service creates, reads and deletes accounts. Writes go through raft;
// reads wait for freshness and then read local state. Safe for concurrent
// use.
type Service struct {
	raft  Proposer
	state *storage.State
	plans plan.Catalog
	now   func() time.Time
}

// NewService returns a service that proposes through raft, reads state and
// validates plans against plans.
func NewService(raft Proposer, state *storage.State, plans plan.Catalog) *Service {
	return &Service{raft: raft, state: state, plans: plans, now: time.Now}
}

// Register installs the account commands in fsm.
func Register(fsm *consensus.FSM) {
	fsm.Register(cmdCreate, applyCreate)
	fsm.Register(cmdDelete, applyDelete)
	fsm.Register(cmdSetPlan, applySetPlan)
}

// NormalizeEmail validates an address and returns its canonical form
// (trimmed, lowercased), which is what uniqueness is checked on.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 {
		return "", ErrBadEmail
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s, "@") {
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
		return Account{}, s.unknownPlan(planName)
	}
	a := Account{ID: newID(), Email: email, Plan: planName, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	cmd, err := consensus.NewCommand(cmdCreate, 1, a)
	if err != nil {
		return Account{}, err
	}
	if _, err := s.raft.Apply(ctx, cmd); err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

func (s *Service) unknownPlan(name string) error {
	return ErrUnknownPlan.With(map[string]any{"plans": s.plans.Names()})
}

// SetPlan moves an account to another plan of the catalog.
func (s *Service) SetPlan(ctx context.Context, id, planName string) (Account, error) {
	if _, err := s.plans.Lookup(planName); err != nil {
		return Account{}, s.unknownPlan(planName)
	}
	cmd, err := consensus.NewCommand(cmdSetPlan, 1, map[string]string{"id": id, "plan": planName})
	if err != nil {
		return Account{}, err
	}
	raw, err := s.raft.Apply(ctx, cmd)
	if err != nil {
		return Account{}, fmt.Errorf("set plan: %w", err)
	}
	var a Account
	if err := json.Unmarshal(raw, &a); err != nil {
		return Account{}, fmt.Errorf("set plan: decode: %w", err)
	}
	return a, nil
}

// Delete removes an account.
func (s *Service) Delete(ctx context.Context, id string) error {
	cmd, err := consensus.NewCommand(cmdDelete, 1, map[string]string{"id": id})
	if err != nil {
		return err
	}
	if _, err := s.raft.Apply(ctx, cmd); err != nil {
		return fmt.Errorf("delete account: %w", err)
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
	out := []Account{}
	err := s.state.Scan([]byte(prefixAccount), func(_, v []byte) error {
		var a Account
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// Lookup reads an account from local state without a freshness barrier; hot
// paths such as key checks use it.
func Lookup(st *storage.State, id string) (Account, error) {
	v, err := st.Get([]byte(prefixAccount + id))
	if errors.Is(err, storage.ErrNotFound) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("lookup account: %w", err)
	}
	var a Account
	if err := json.Unmarshal(v, &a); err != nil {
		return Account{}, fmt.Errorf("lookup account: %w", err)
	}
	return a, nil
}

func applyCreate(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var a Account
	if err := cmd.Decode(&a); err != nil {
		return nil, err
	}
	if _, err := tx.Get([]byte(prefixEmail + a.Email)); err == nil {
		return nil, ErrEmailTaken
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if _, err := tx.Get([]byte(prefixAccount + a.ID)); err == nil {
		return nil, errkind.New(errkind.Conflict, "account ID already exists")
	}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	if err := tx.Set([]byte(prefixAccount+a.ID), b); err != nil {
		return nil, err
	}
	return a, tx.Set([]byte(prefixEmail+a.Email), []byte(a.ID))
}

func loadTx(tx *storage.Tx, id string) (Account, error) {
	v, err := tx.Get([]byte(prefixAccount + id))
	if errors.Is(err, storage.ErrNotFound) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, err
	}
	var a Account
	return a, json.Unmarshal(v, &a)
}

func applyDelete(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req struct {
		ID string `json:"id"`
	}
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	a, err := loadTx(tx, req.ID)
	if err != nil {
		return nil, err
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
	a, err := loadTx(tx, req.ID)
	if err != nil {
		return nil, err
	}
	a.Plan = req.Plan
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	return a, tx.Set([]byte(prefixAccount+a.ID), b)
}

// newID returns a random account ID. IDs are chosen before proposal so that
// Apply stays deterministic.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return "acct_" + hex.EncodeToString(b[:])
}
