package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rendercache/rendercache/internal/logbridge"
	"github.com/rendercache/rendercache/storage"
)

// Raft is one node's participation in the control plane. Apply and Fresh
// work on any node; leadership is handled inside. Safe for concurrent use.
type Raft struct {
	cfg     Config
	log     *slog.Logger
	raft    *raft.Raft
	fsm     *FSM
	trans   *raft.NetworkTransport
	snaps   raft.SnapshotStore
	members Membership
	rpc     *http.Client

	reads *readBatcher // leader side: raft barriers shared by every node's reads
	fresh *readBatcher // this node's leader round trips, shared by its reads
	// stopBarriers ends the batchers' barriers at Shutdown.
	stopBarriers context.CancelFunc

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	kick     chan struct{} // wakes the reconcile loop

	leftMu sync.Mutex
	left   map[string]time.Time // servers removed by a graceful leave, and when
}

// New starts raft for this node over the stores in db, applying commands to
// fsm. members feeds voter management and tells where peers' internal
// listeners are; rpc is the authenticated client for the internal listener
// (see package peer). The node does not bootstrap by itself: call
// BootstrapIfNew.
func New(cfg Config, db *storage.DB, fsm *FSM, members Membership, rpc *http.Client) (*Raft, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("subsystem", "consensus")

	ln, err := net.Listen("tcp", cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("consensus: listen %s: %w", cfg.BindAddr, err)
	}
	adv := ln.Addr()
	if cfg.AdvertiseAddr != "" {
		if adv, err = net.ResolveTCPAddr("tcp", cfg.AdvertiseAddr); err != nil {
			ln.Close()
			return nil, fmt.Errorf("consensus: advertise address: %w", err)
		}
	}
	stream := &streamLayer{Listener: ln, advertise: adv, self: cfg.NodeID, faults: cfg.Faults}
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: 4,
		Timeout: 5 * time.Second,
		Logger:  logbridge.ToHCLog(log, "raft-net"),
	})

	if err := os.MkdirAll(cfg.SnapshotDir, 0o700); err != nil {
		trans.Close()
		return nil, fmt.Errorf("consensus: snapshot dir: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.SnapshotDir, 2, logbridge.ToHCLog(log, "raft-snap"))
	if err != nil {
		trans.Close()
		return nil, fmt.Errorf("consensus: snapshot store: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	// A node removed for looking dead (a long GC pause, a slow network)
	// stays up, so that the leader's reconciliation can add it back when
	// gossip sees it alive again. raft's default would stop it for good
	// until the process restarts. A graceful leave shuts raft down itself.
	rc.ShutdownOnRemove = false
	rc.Logger = logbridge.ToHCLog(log, "raft")

	r, err := raft.NewRaft(rc, fsm, db.LogStore(), db.StableStore(), snaps, trans)
	if err != nil {
		trans.Close()
		return nil, fmt.Errorf("consensus: start raft: %w", err)
	}
	n := &Raft{
		cfg: cfg, log: log, raft: r, fsm: fsm, trans: trans, snaps: snaps, members: members, rpc: rpc,
		stop: make(chan struct{}), kick: make(chan struct{}, 1), left: map[string]time.Time{},
	}
	stopCtx, cancel := context.WithCancel(context.Background())
	n.stopBarriers = cancel
	n.reads = &readBatcher{barrier: n.localReadIndex, timeout: defaultBarrierTimeout, base: stopCtx}
	n.fresh = &readBatcher{barrier: n.readIndex, timeout: cfg.LeaderWait + defaultBarrierTimeout, base: stopCtx}
	n.wg.Add(1)
	go n.reconcileLoop()
	return n, nil
}

// ID returns this node's raft server ID.
func (n *Raft) ID() string { return n.cfg.NodeID }

// Addr returns the advertised raft address.
func (n *Raft) Addr() string { return string(n.trans.LocalAddr()) }

// FSM returns the node's state machine.
func (n *Raft) FSM() *FSM { return n.fsm }

// BootstrapIfNew makes this node the single voter of a new cluster when its
// stores hold no raft state. It reports whether it bootstrapped.
func (n *Raft) BootstrapIfNew(db *storage.DB) (bool, error) {
	has, err := raft.HasExistingState(db.LogStore(), db.StableStore(), n.snaps)
	if err != nil {
		return false, fmt.Errorf("consensus: check state: %w", err)
	}
	if has {
		return false, nil
	}
	f := n.raft.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
		ID: raft.ServerID(n.cfg.NodeID), Address: n.trans.LocalAddr(), Suffrage: raft.Voter,
	}}})
	if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return false, fmt.Errorf("consensus: bootstrap: %w", err)
	}
	return true, nil
}

// IsLeader reports whether this node currently is the leader.
func (n *Raft) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the current leader's ID, or "" when none is known.
func (n *Raft) Leader() string {
	_, id := n.raft.LeaderWithID()
	return string(id)
}

// Kick asks the leader's reconcile loop to run now, e.g. after a membership
// event. It never blocks.
func (n *Raft) Kick() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Apply proposes cmd and returns its JSON-encoded result once the command is
// committed and applied on the leader. Any node may call it: followers
// forward to the leader over the internal listener. Errors raised by the
// command's handler come back as the same errkind errors.
func (n *Raft) Apply(ctx context.Context, cmd Command) (json.RawMessage, error) {
	data, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	scopeOf(ctx).set(false)
	ctx, cancel := n.withDefaultTimeout(ctx)
	defer cancel()
	return n.onLeader(ctx, func(ctx context.Context) (json.RawMessage, error) {
		return n.applyLocal(ctx, data)
	}, func(ctx context.Context, addr string) (json.RawMessage, error) {
		return n.forwardApply(ctx, addr, data)
	})
}

// Fresh blocks until this node's state reflects every write acknowledged
// before the call, on any node (read-your-writes for load-balanced clients).
// It costs one round trip to the leader, except under a read scope
// (WithReadScope) where a barrier already completed.
func (n *Raft) Fresh(ctx context.Context) error {
	scope := scopeOf(ctx)
	if scope.isFresh() {
		return nil
	}
	if err := n.barrier(ctx); err != nil {
		return err
	}
	scope.set(true)
	return nil
}

func (n *Raft) barrier(ctx context.Context) error {
	ctx, cancel := n.withDefaultTimeout(ctx)
	defer cancel()
	// The leader waits on its own raft barrier, not behind the node's
	// round-trip batcher as well; if it has just lost leadership, the
	// general path finds the new leader.
	if n.IsLeader() {
		if idx, err := n.reads.wait(ctx); err == nil {
			return n.fsm.WaitApplied(ctx, idx)
		}
	}
	idx, err := n.fresh.wait(ctx)
	if err != nil {
		return err
	}
	return n.fsm.WaitApplied(ctx, idx)
}

// readIndex asks the leader, here or remote, for an index covering every
// write acknowledged before the call.
func (n *Raft) readIndex(ctx context.Context) (uint64, error) {
	raw, err := n.onLeader(ctx, func(ctx context.Context) (json.RawMessage, error) {
		idx, err := n.reads.wait(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(idx)
	}, n.forwardReadIndexWatched)
	if err != nil {
		return 0, err
	}
	var idx uint64
	if err := json.Unmarshal(raw, &idx); err != nil {
		return 0, fmt.Errorf("consensus: read index: %w", err)
	}
	return idx, nil
}

func (n *Raft) withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, n.cfg.ApplyTimeout)
}

// onLeader runs local when this node leads and remote against the leader's
// internal address otherwise, waiting up to LeaderWait for a leader and
// retrying when the target turns out not to lead (nothing was proposed then,
// so a retry cannot duplicate a write).
func (n *Raft) onLeader(ctx context.Context,
	local func(context.Context) (json.RawMessage, error),
	remote func(context.Context, string) (json.RawMessage, error),
) (json.RawMessage, error) {
	giveUp := time.Now().Add(n.cfg.LeaderWait)
	for {
		select {
		case <-n.stop:
			return nil, ErrShutdown
		default:
		}
		var (
			out json.RawMessage
			err error
		)
		leader := n.Leader()
		switch {
		case leader == n.cfg.NodeID && n.IsLeader():
			out, err = local(ctx)
		case leader != "":
			addr, ok := n.internalAddr(leader)
			if !ok {
				err = ErrNoLeader
				break
			}
			out, err = remote(ctx, addr)
		default:
			err = ErrNoLeader
		}
		retry := errors.Is(err, ErrNotLeader) || errors.Is(err, ErrNoLeader) || errors.Is(err, errUnreachable)
		if err == nil || !retry {
			return out, err
		}
		if time.Now().After(giveUp) {
			return nil, ErrNoLeader
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("consensus: %w (%v)", ErrNoLeader, ctx.Err())
		case <-n.stop:
			t.Stop()
			return nil, ErrShutdown
		case <-t.C:
		}
	}
}

func (n *Raft) internalAddr(id string) (string, bool) {
	for _, p := range n.members.Peers() {
		if p.ID == id && p.InternalAddr != "" {
			return p.InternalAddr, true
		}
	}
	return "", false
}

func (n *Raft) applyLocal(ctx context.Context, data []byte) (json.RawMessage, error) {
	timeout := time.Until(deadline(ctx))
	if timeout <= 0 {
		return nil, fmt.Errorf("consensus: apply: %w", context.DeadlineExceeded)
	}
	f := n.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		return nil, mapRaftError(err)
	}
	res, ok := f.Response().(*result)
	if !ok {
		return nil, fmt.Errorf("consensus: apply: unexpected response %T", f.Response())
	}
	return res.unwrap()
}

// localReadIndex returns an applied index that covers every write committed
// before the call. A barrier goes through the log, so it also proves this
// node still leads a quorum.
func (n *Raft) localReadIndex(ctx context.Context) (uint64, error) {
	timeout := time.Until(deadline(ctx))
	if timeout <= 0 {
		return 0, fmt.Errorf("consensus: read index: %w", context.DeadlineExceeded)
	}
	if err := n.raft.Barrier(timeout).Error(); err != nil {
		return 0, mapRaftError(err)
	}
	return n.fsm.Applied(), nil
}

func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(10 * time.Second)
}

func mapRaftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return ErrNotLeader
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return ErrOutcomeUnknown
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrShutdown
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrNoLeader
	}
	return fmt.Errorf("consensus: raft: %w", err)
}

// Status is a point-in-time view of this node's raft state for health checks
// and metrics.
type Status struct {
	ID           string
	State        string // Leader, Follower, Candidate, Shutdown
	Leader       string
	Term         uint64
	CommitIndex  uint64
	RaftApplied  uint64 // raft's applied index, including no-op entries
	AppliedIndex uint64 // last command applied to the state
	LastContact  time.Time
	Servers      []Server
}

// Server is one entry of the raft configuration.
type Server struct {
	ID       string
	Address  string
	Suffrage string // "voter" or "nonvoter"
}

// Status returns the node's raft status.
func (n *Raft) Status() Status {
	st := Status{
		ID:           n.cfg.NodeID,
		State:        n.raft.State().String(),
		Leader:       n.Leader(),
		CommitIndex:  n.raft.CommitIndex(),
		RaftApplied:  n.raft.AppliedIndex(),
		AppliedIndex: n.fsm.Applied(),
		LastContact:  n.raft.LastContact(),
		Term:         n.raft.CurrentTerm(),
	}
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			suf := "voter"
			if s.Suffrage != raft.Voter {
				suf = "nonvoter"
			}
			st.Servers = append(st.Servers, Server{ID: string(s.ID), Address: string(s.Address), Suffrage: suf})
		}
	}
	return st
}

// Ready reports whether the node can serve fresh management reads: it knows
// a leader and has applied what it knows to be committed, up to readyLag
// entries in flight.
func (n *Raft) Ready() bool {
	if n.Leader() == "" {
		return false
	}
	// Writes in flight always leave a few committed entries to apply, so
	// "caught up" allows a small lag: a node replaying a backlog (after a
	// restart or a snapshot install) is far beyond it, one serving a busy
	// cluster is not, and readiness does not flap under write load.
	return n.raft.CommitIndex() <= n.raft.AppliedIndex()+readyLag
}

// readyLag is how many committed entries may wait to be applied on a
// node that counts as caught up.
const readyLag = 256

// Leave removes this node gracefully: a leader hands leadership to another
// voter first, then the node asks the leader to drop it from the
// configuration so the remaining voters keep a quorum. Call Shutdown after.
func (n *Raft) Leave(ctx context.Context) error {
	if n.IsLeader() && n.otherVoters() > 0 {
		if err := n.raft.LeadershipTransfer().Error(); err != nil {
			n.log.Warn("leadership transfer failed; leaving anyway", "err", err)
		}
	}
	if n.otherVoters() == 0 && n.IsLeader() {
		return nil // the last voter has nobody to hand the state to
	}
	_, err := n.onLeader(ctx, func(ctx context.Context) (json.RawMessage, error) {
		return nil, n.removeLeaving(n.cfg.NodeID)
	}, func(ctx context.Context, addr string) (json.RawMessage, error) {
		return n.forwardLeave(ctx, addr, n.cfg.NodeID)
	})
	if err != nil {
		return fmt.Errorf("consensus: leave: %w", err)
	}
	return nil
}

func (n *Raft) otherVoters() int {
	c := 0
	for _, s := range n.Status().Servers {
		if s.ID != n.cfg.NodeID && s.Suffrage == "voter" {
			c++
		}
	}
	return c
}

// removeLeaving removes a server that asked to leave, and remembers it so
// that reconciliation does not add it back while gossip still reports it
// alive (the node leaves raft before it leaves gossip).
func (n *Raft) removeLeaving(id string) error {
	n.leftMu.Lock()
	n.left[id] = time.Now()
	n.leftMu.Unlock()
	return n.removeServer(id)
}

// leftSince reports whether id left gracefully after it was last seen
// becoming alive, i.e. it has not come back since.
func (n *Raft) leftSince(id string, aliveSince time.Time) bool {
	n.leftMu.Lock()
	defer n.leftMu.Unlock()
	t, ok := n.left[id]
	if ok && aliveSince.After(t) {
		delete(n.left, id) // it restarted and rejoined
		return false
	}
	return ok
}

func (n *Raft) removeServer(id string) error {
	if !n.IsLeader() {
		return ErrNotLeader
	}
	if err := n.raft.RemoveServer(raft.ServerID(id), 0, 10*time.Second).Error(); err != nil {
		return mapRaftError(err)
	}
	n.log.Info("removed server from raft configuration", "id", id)
	return nil
}

// Snapshot takes a raft snapshot now and compacts the log down to
// TrailingLogs entries, instead of waiting for SnapshotThreshold.
func (n *Raft) Snapshot() error {
	if err := n.raft.Snapshot().Error(); err != nil {
		return fmt.Errorf("consensus: snapshot: %w", err)
	}
	return nil
}

// Shutdown stops raft and closes the transport without leaving. It is what
// an abrupt stop looks like to the other nodes. Idempotent.
func (n *Raft) Shutdown() error {
	var err error
	n.stopOnce.Do(func() {
		close(n.stop)
		n.stopBarriers()
		n.wg.Wait()
		err = n.raft.Shutdown().Error()
		if cerr := n.trans.Close(); err == nil {
			err = cerr
		}
	})
	if err != nil {
		return fmt.Errorf("consensus: shutdown: %w", err)
	}
	return nil
}

// Proposer is what the replicated resources need from consensus: writes
// that return once committed and applied, and read-your-writes freshness.
// *Raft satisfies it.
type Proposer interface {
	Applier
	Fresh(ctx context.Context) error
}

// Applier is the write half of Proposer, for components that only write.
type Applier interface {
	Apply(ctx context.Context, cmd Command) (json.RawMessage, error)
}

var _ Proposer = (*Raft)(nil)
