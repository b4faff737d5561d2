package apikey

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/periodic"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/storage"
)

// Service issues and checks keys. It is safe for concurrent use.
type Service struct {
	raft  consensus.Proposer
	state *storage.State
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	touched map[string]time.Time // key ID → last use not yet replicated
}

// NewService returns a key service over raft and the local state.
func NewService(raft consensus.Proposer, state *storage.State, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{raft: raft, state: state, log: log.With("subsystem", "apikey"), now: time.Now, touched: map[string]time.Time{}}
}

// Principal is who a valid key authenticates.
type Principal struct {
	Account account.Account
	KeyID   string
	Roles   []string
}

// HasRole reports whether the key was granted role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// Authenticate checks a raw key against fresh state: it waits for a read
// barrier first, so a key created on another node works here right after
// its 2xx, and a key revoked (or whose account was deleted or downgraded)
// anywhere is refused here from the moment that change returned 2xx. The
// barrier is shared with the request's reads under a read scope. Errors
// are ErrInvalid, or an Unavailable error when the barrier fails.
func (s *Service) Authenticate(ctx context.Context, raw string) (Principal, error) {
	if !secret.HasShape(raw, LivePrefix) && !secret.HasShape(raw, TestPrefix) {
		return Principal{}, ErrInvalid
	}
	k, err := secret.LookupFresh(ctx, s.raft.Fresh, s.state, prefixHash, prefixKey, secret.Hash(raw), func(k Key) string { return k.Hash }, ErrInvalid)
	if err != nil {
		return Principal{}, err
	}
	now := s.now()
	if k.expired(now) {
		return Principal{}, ErrInvalid
	}
	a, err := account.Lookup(s.state, k.AccountID)
	if err != nil {
		return Principal{}, ErrInvalid
	}
	s.mu.Lock()
	s.touched[k.ID] = now.UTC().Truncate(time.Second)
	s.mu.Unlock()
	return Principal{Account: a, KeyID: k.ID, Roles: k.Roles}, nil
}

// RunToucher replicates keys' last-use times every interval, in one raft
// write per interval for all keys used on this node, until ctx ends; then
// it flushes once more. lastUsedAt is therefore accurate to about interval.
func (s *Service) RunToucher(ctx context.Context, interval time.Duration) {
	periodic.Run(ctx, interval, s.flush)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	s.flush(fctx)
}

func (s *Service) flush(ctx context.Context) {
	s.mu.Lock()
	if len(s.touched) == 0 {
		s.mu.Unlock()
		return
	}
	batch := make([]touch, 0, len(s.touched))
	for id, at := range s.touched {
		batch = append(batch, touch{ID: id, At: at})
	}
	s.touched = map[string]time.Time{}
	s.mu.Unlock()
	if _, err := consensus.Propose(ctx, s.raft, "touch keys", cmdTouch, 1, map[string]any{"touches": batch}); err != nil {
		s.log.Debug("lastUsedAt flush failed; retrying next interval", "keys", len(batch), "err", err)
		s.mu.Lock()
		for _, t := range batch {
			if cur, ok := s.touched[t.ID]; !ok || t.At.After(cur) {
				s.touched[t.ID] = t.At
			}
		}
		s.mu.Unlock()
	}
}
