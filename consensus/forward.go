package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Paths of the internal RPCs, served by Handler on the internal listener.
const (
	pathApply     = "/internal/v1/raft/apply"
	pathReadIndex = "/internal/v1/raft/read-index"
	pathLeave     = "/internal/v1/raft/leave"
)

// errUnreachable marks a forward that failed before the leader could have
// acted on it (connection refused, partition): safe to retry elsewhere.
var errUnreachable = errors.New("leader unreachable")

// Handler serves the RPCs that followers send to the leader. Mount it on the
// internal listener behind peer.Require.
func (n *Raft) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathApply, func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(io.LimitReader(r.Body, MaxCommandBytes+1))
		if err != nil {
			writeResult(w, &result{Err: toWire(fmt.Errorf("read body: %w", err))})
			return
		}
		if _, err := DecodeCommand(data); err != nil {
			writeResult(w, &result{Err: toWire(err)})
			return
		}
		if !n.IsLeader() {
			writeResult(w, &result{Err: toWire(ErrNotLeader)})
			return
		}
		val, err := n.applyLocal(r.Context(), data)
		writeValue(w, val, err)
	})
	mux.HandleFunc("POST "+pathReadIndex, func(w http.ResponseWriter, r *http.Request) {
		if !n.IsLeader() {
			writeResult(w, &result{Err: toWire(ErrNotLeader)})
			return
		}
		idx, err := n.reads.wait(r.Context())
		if err != nil {
			writeValue(w, nil, err)
			return
		}
		b, _ := json.Marshal(idx)
		writeValue(w, b, nil)
	})
	mux.HandleFunc("POST "+pathLeave, func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID string `json:"id"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.ID == "" {
			writeResult(w, &result{Err: toWire(fmt.Errorf("leave: bad request"))})
			return
		}
		writeValue(w, nil, n.removeLeaving(req.ID))
	})
	return mux
}

func writeValue(w http.ResponseWriter, val json.RawMessage, err error) {
	if err != nil {
		writeResult(w, &result{Err: toWire(err)})
		return
	}
	writeResult(w, &result{Value: val})
}

func writeResult(w http.ResponseWriter, res *result) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

func (n *Raft) forwardApply(ctx context.Context, addr string, data []byte) (json.RawMessage, error) {
	return n.call(ctx, addr, pathApply, data)
}

func (n *Raft) forwardReadIndex(ctx context.Context, addr string) (json.RawMessage, error) {
	return n.call(ctx, addr, pathReadIndex, []byte("{}"))
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
	b, _ := json.Marshal(map[string]string{"id": id})
	return n.call(ctx, addr, pathLeave, b)
}

// call posts body to a peer's internal RPC and decodes the result envelope.
// Failures to connect are errUnreachable; a failure after the request was
// sent leaves the outcome unknown.
func (n *Raft) call(ctx context.Context, addr, path string, body []byte) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("consensus: forward: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.rpc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("consensus: forward to %s: %w", addr, ctx.Err())
		}
		if path != pathApply {
			return nil, fmt.Errorf("consensus: forward to %s: %w: %v", addr, errUnreachable, err)
		}
		// The leader may have received the write before the connection
		// broke, so only a refused dial is safe to retry.
		if isDialError(err) {
			return nil, fmt.Errorf("consensus: forward to %s: %w: %v", addr, errUnreachable, err)
		}
		return nil, ErrOutcomeUnknown
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("consensus: forward to %s: %w: status %s", addr, errUnreachable, resp.Status)
	}
	var res result
	if err := json.NewDecoder(io.LimitReader(resp.Body, MaxCommandBytes*2)).Decode(&res); err != nil {
		return nil, fmt.Errorf("consensus: forward to %s: decode: %w", addr, err)
	}
	return res.unwrap()
}
