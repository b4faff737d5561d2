package cachectl

import (
	"context"

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
