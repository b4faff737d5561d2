package zone

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/storage"
)

// Service manages zones through raft and reads them from local state after
// a read barrier. Safe for concurrent use.
type Service struct {
	raft   consensus.Proposer
	state  *storage.State
	policy origin.Policy
	now    func() time.Time
}

// NewService returns a zone service; policy decides which origins a zone
// may have, as it does for domains.
func NewService(raft consensus.Proposer, state *storage.State, policy origin.Policy) *Service {
	return &Service{raft: raft, state: state, policy: policy, now: time.Now}
}

// checkOrigin parses raw and applies the SSRF policy; it returns the
// origin in its normal form.
func (s *Service) checkOrigin(ctx context.Context, raw string) (string, error) {
	return s.policy.Origin(ctx, raw)
}

// newID returns a random zone ID, chosen before the proposal.
func newID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("zone id: %w", err)
	}
	return IDPrefix + hex.EncodeToString(b[:]), nil
}

// Create registers a zone named name for an account in mode m. Live zones
// count against p.Zones; test zones are not limited.
func (s *Service) Create(ctx context.Context, acct account.Account, p plan.Plan, m Mode, name, originURL string) (Zone, error) {
	if !m.Valid() {
		return Zone{}, fmt.Errorf("create zone: mode %q", m)
	}
	if name == "" {
		return Zone{}, ErrNameRequired
	}
	n, err := NormalizeName(name)
	if err != nil {
		return Zone{}, err
	}
	if originURL == "" {
		return Zone{}, ErrOriginRequired
	}
	o, err := s.checkOrigin(ctx, originURL)
	if err != nil {
		return Zone{}, err
	}
	id, err := newID()
	if err != nil {
		return Zone{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	z := Zone{ID: id, AccountID: acct.ID, Mode: m, Name: n, Origin: o, Active: true, Created: now, Updated: now}
	raw, err := consensus.Propose(ctx, s.raft, "create zone", cmdCreate, 1, createRequest{Zone: z, Allowed: p.Zones})
	if err != nil {
		return Zone{}, err
	}
	return decode(raw, "create zone")
}

// Get returns the account's zone of mode m, seeing acknowledged writes.
func (s *Service) Get(ctx context.Context, accountID string, m Mode, id string) (Zone, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return Zone{}, err
	}
	return Owned(s.state, accountID, m, id)
}

// List returns the account's zones of mode m, seeing acknowledged writes.
func (s *Service) List(ctx context.Context, accountID string, m Mode) ([]Zone, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return nil, err
	}
	return listLocal(s.state, accountID, m)
}

// Update applies p to the account's zone; the merge happens in Apply, on
// the zone as committed. A name or origin is checked as on Create.
func (s *Service) Update(ctx context.Context, accountID string, m Mode, id string, p Patch) (Zone, error) {
	if !ValidID(id) {
		return Zone{}, ErrNotFound
	}
	if p.Name != nil {
		n, err := NormalizeName(*p.Name)
		if err != nil {
			return Zone{}, err
		}
		p.Name = &n
	}
	if p.Origin != nil {
		o, err := s.checkOrigin(ctx, *p.Origin)
		if err != nil {
			return Zone{}, err
		}
		p.Origin = &o
	}
	req := patchRequest{AccountID: accountID, Mode: m, ID: id, Patch: p, At: s.now().UTC().Truncate(time.Second)}
	raw, err := consensus.Propose(ctx, s.raft, "update zone", cmdPatch, 1, req)
	if err != nil {
		return Zone{}, err
	}
	return decode(raw, "update zone")
}

// Delete removes the account's zone and its versions.
func (s *Service) Delete(ctx context.Context, accountID string, m Mode, id string) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	_, err := consensus.Propose(ctx, s.raft, "delete zone", cmdDelete, 1, deleteRequest{AccountID: accountID, Mode: m, ID: id})
	return err
}

// Purge bumps the version t names in the account's zone. It returns once
// the purge is committed and applied on this node; waiting for the other
// nodes is the caller's (the applied index to wait for is Applied's).
func (s *Service) Purge(ctx context.Context, accountID string, m Mode, id string, t Target) (Zone, error) {
	if !ValidID(id) {
		return Zone{}, ErrNotFound
	}
	if !t.valid() {
		return Zone{}, ErrBadPurge
	}
	raw, err := consensus.Propose(ctx, s.raft, "purge zone", cmdPurge, 1, purgeRequest{AccountID: accountID, Mode: m, ID: id, Target: t})
	if err != nil {
		return Zone{}, err
	}
	return decode(raw, "purge zone")
}

func decode(raw json.RawMessage, op string) (Zone, error) {
	var z Zone
	if err := json.Unmarshal(raw, &z); err != nil {
		return Zone{}, fmt.Errorf("%s: %w", op, err)
	}
	return z, nil
}
