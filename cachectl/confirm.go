package cachectl

import (
	"context"
	"fmt"

	"github.com/rendercache/rendercache/internal/peer"
)

// pathApplied is where a node confirms that it applied a raft index.
const pathApplied = "/internal/v1/cachectl/applied"

type appliedRequest struct {
	Index uint64 `json:"index"`
}

type appliedAnswer struct{}

// ConfirmApplied waits until every live member applied raft index idx
// (each within ApplyWait) and returns how many confirmed. A purge that
// is a version bump (zones, tenants) calls it after its write, so that
// once it returns no node that confirmed serves the old version. A member
// that cannot confirm in time is logged and not counted.
func (s *Service) ConfirmApplied(ctx context.Context, idx uint64) (int, error) {
	_, errs := fanOut(ctx, s, func(ctx context.Context, m Member) (struct{}, error) {
		if m.Name == s.cfg.Self {
			return struct{}{}, s.waitApplied(ctx, idx)
		}
		var a appliedAnswer
		return struct{}{}, peer.Call(ctx, s.cfg.Client, m.InternalAddr, pathApplied, appliedRequest{Index: idx}, &a)
	})
	n := 0
	for _, err := range errs {
		if err != nil {
			s.cfg.Logger.Warn("a member did not confirm a write in time", "index", idx, "err", err)
			continue
		}
		n++
	}
	if err := ctx.Err(); err != nil {
		return n, err
	}
	return n, nil
}

// waitApplied waits up to ApplyWait until this node applied idx.
func (s *Service) waitApplied(ctx context.Context, idx uint64) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyWait)
	defer cancel()
	return s.cfg.Raft.WaitApplied(ctx, idx)
}

// Settle waits until every live member applied every write acknowledged
// before the call, this node's own included, and returns how many
// confirmed. A write forwarded from a follower returns once the leader
// applied it, before the follower has: so Settle first takes a read
// barrier, which brings this node up to the leader's commit, and then
// confirms this node's applied index everywhere. Version bumps that must
// be honoured by every node once they return 2xx (zone purges, tenant
// cache versions) call it after their write.
func (s *Service) Settle(ctx context.Context) (int, error) {
	if err := s.cfg.Raft.Fresh(ctx); err != nil {
		return 0, fmt.Errorf("settle: %w", err)
	}
	return s.ConfirmApplied(ctx, s.cfg.Raft.Applied())
}
