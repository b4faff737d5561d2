package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/peer"
)

// PathPrefix is where Handler is mounted on the internal listener. It is
// v2 since the answers took the peer wire format: a v1 leader's errors
// came with status 200, which a v2 follower would read as success.
const PathPrefix = "/internal/v2/raft/"

// Paths of the internal RPCs, served by Handler.
const (
	pathApply     = PathPrefix + "apply"
	pathReadIndex = PathPrefix + "read-index"
	pathLeave     = PathPrefix + "leave"
)

// errUnreachable marks a forward that failed before the leader could have
// acted on it (connection refused, partition): safe to retry elsewhere.
var errUnreachable = errors.New("leader unreachable")

// leaveRequest asks the leader to remove a node that is leaving.
type leaveRequest struct {
	ID string `json:"id"`
}

// Handler serves the RPCs that followers send to the leader. Mount it on the
// internal listener behind peer.Require.
func (n *Raft) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+pathApply, peer.Handle(func(ctx context.Context, data json.RawMessage) (result, error) {
		if _, err := DecodeCommand(data); err != nil {
			return result{}, err
		}
		if !n.IsLeader() {
			return result{}, ErrNotLeader
		}
		val, err := n.applyLocal(ctx, data)
		return result{Value: val}, err
	}))
	mux.Handle("POST "+pathReadIndex, peer.Handle(func(ctx context.Context, _ struct{}) (result, error) {
		if !n.IsLeader() {
			return result{}, ErrNotLeader
		}
		idx, err := n.reads.wait(ctx)
		if err != nil {
			return result{}, err
		}
		b, _ := json.Marshal(idx)
		return result{Value: b}, nil
	}))
	mux.Handle("POST "+pathLeave, peer.Handle(func(ctx context.Context, req leaveRequest) (result, error) {
		if req.ID == "" {
			return result{}, errkind.New(errkind.Invalid, "leave: no node id")
		}
		return result{}, n.removeLeaving(req.ID)
	}))
	return mux
}

func (n *Raft) forwardApply(ctx context.Context, addr string, data []byte) (json.RawMessage, error) {
	return n.call(ctx, addr, pathApply, json.RawMessage(data))
}

func (n *Raft) forwardReadIndex(ctx context.Context, addr string) (json.RawMessage, error) {
	return n.call(ctx, addr, pathReadIndex, struct{}{})
}

// forwardReadIndexWatched is forwardReadIndex abandoned as soon as this
// node sees another leader: every fresh read on the node waits for this one
// round trip, and one stuck on a leader that lost its place (packets
// dropped, not refused) must not hold them until the RPC times out. The
// caller, onLeader, then retries against the new leader.
func (n *Raft) forwardReadIndexWatched(ctx context.Context, addr string) (json.RawMessage, error) {
	leader := n.Leader()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(leaderWatchEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if n.Leader() != leader {
					cancel()
					return
				}
			}
		}
	}()
	raw, err := n.forwardReadIndex(rctx, addr)
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		return nil, fmt.Errorf("consensus: read index from %s: %w: the leader changed", addr, errUnreachable)
	}
	return raw, err
}

// leaderWatchEvery is how often a forwarded read index checks for a new
// leader.
const leaderWatchEvery = 50 * time.Millisecond

func (n *Raft) forwardLeave(ctx context.Context, addr, id string) (json.RawMessage, error) {
	return n.call(ctx, addr, pathLeave, leaveRequest{ID: id})
}

// call makes an internal RPC to the leader at addr. A call that never
// reached it is errUnreachable; one that reached it and lost its answer is
// errUnreachable too, except for an apply, whose outcome is then unknown.
// The leader's own errors (ErrNotLeader included) come back as they were.
func (n *Raft) call(ctx context.Context, addr, path string, req any) (json.RawMessage, error) {
	var res result
	err := peer.Call(ctx, n.rpc, addr, path, req, &res)
	switch {
	case err == nil:
		return res.Value, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("consensus: forward to %s: %w", addr, ctx.Err())
	case errors.Is(err, peer.ErrNoAnswer) && path == pathApply:
		// The leader may have received the write before the connection
		// broke, so only a call that never reached it is safe to retry.
		return nil, ErrOutcomeUnknown
	case errors.Is(err, peer.ErrUnreachable), errors.Is(err, peer.ErrNoAnswer):
		return nil, fmt.Errorf("consensus: forward: %w: %w", errUnreachable, err)
	}
	return nil, fmt.Errorf("consensus: forward: %w", err)
}
