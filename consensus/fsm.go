package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/storage"
)

// Handler applies one command type to the state inside a transaction. It
// must be deterministic: the same state and command give the same writes and
// result on every node. Errors it returns are part of the result (use
// errkind errors so they keep their meaning when forwarded); its writes are
// discarded when it fails. The returned value is JSON-encoded into the
// result.
type Handler func(tx *storage.Tx, cmd Command) (any, error)

// FSM is the replicated state machine: a registry of command handlers over
// the Pebble-backed state. Register every handler before raft starts; after
// that the FSM is safe for concurrent use.
type FSM struct {
	state    *storage.State
	log      *slog.Logger
	handlers map[string]Handler

	mu       sync.Mutex
	advanced chan struct{} // closed and replaced whenever the applied index moves
}

var (
	_ raft.FSM         = (*FSM)(nil)
	_ raft.FSMSnapshot = (*fsmSnapshot)(nil)
)

// NewFSM returns a state machine over state.
func NewFSM(state *storage.State, log *slog.Logger) *FSM {
	if log == nil {
		log = slog.Default()
	}
	return &FSM{state: state, log: log, handlers: map[string]Handler{}, advanced: make(chan struct{})}
}

// Register installs the handler for a command type. It panics on a duplicate
// registration, which is a programming error caught at startup.
func (f *FSM) Register(typ string, h Handler) {
	if _, dup := f.handlers[typ]; dup {
		panic("consensus: duplicate handler for " + typ)
	}
	f.handlers[typ] = h
}

// State returns the state the FSM writes, for local reads.
func (f *FSM) State() *storage.State { return f.state }

// Applied returns the raft index of the last command applied to the state.
func (f *FSM) Applied() uint64 { return f.state.AppliedIndex() }

// WaitApplied blocks until the state has applied index idx or ctx ends.
func (f *FSM) WaitApplied(ctx context.Context, idx uint64) error {
	for {
		f.mu.Lock()
		ch := f.advanced
		f.mu.Unlock()
		if f.Applied() >= idx {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("consensus: wait for index %d (applied %d): %w", idx, f.Applied(), ctx.Err())
		}
	}
}

func (f *FSM) notify() {
	f.mu.Lock()
	close(f.advanced)
	f.advanced = make(chan struct{})
	f.mu.Unlock()
}

// result is what Apply returns to raft and, through forwarding (as the
// answer of peer.Handle), to the proposing node.
type result struct {
	Value json.RawMessage `json:"value,omitempty"`
	// err is Apply's error, which a forward sends in peer's wire format.
	err error
	// val is Apply's value, encoded by unwrap on the one node that waits
	// for it rather than by every replica in Apply.
	val any
}

func (r *result) unwrap() (json.RawMessage, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.val != nil {
		b, err := json.Marshal(r.val)
		if err != nil {
			return nil, fmt.Errorf("consensus: encode result: %w", err)
		}
		return b, nil
	}
	return r.Value, nil
}

// Apply implements raft.FSM.
func (f *FSM) Apply(l *raft.Log) any {
	defer f.notify()
	cmd, err := DecodeCommand(l.Data)
	if err != nil {
		// Undecodable entries are skipped identically on every node.
		f.recordSkip(l.Index)
		return &result{err: errkind.New(errkind.Invalid, err.Error())}
	}
	h, ok := f.handlers[cmd.Type]
	if !ok {
		f.log.Error("skipping unknown command; is this node older than the leader?", "type", cmd.Type, "index", l.Index)
		f.recordSkip(l.Index)
		return &result{err: errkind.New(errkind.Internal, fmt.Sprintf("%v: %s", ErrUnknownCommand, cmd.Type))}
	}
	var (
		val    any
		appErr error
	)
	err = f.state.Apply(l.Index, func(tx *storage.Tx) error {
		val, appErr = h(tx, cmd)
		return appErr
	})
	switch {
	case errors.Is(err, storage.ErrAlreadyApplied):
		return &result{}
	case appErr != nil:
		return &result{err: asForwarded(appErr)}
	case err != nil:
		// The local disk failed: carrying on would let this replica diverge.
		panic(fmt.Sprintf("consensus: apply index %d: %v", l.Index, err))
	}
	return &result{val: val}
}

func (f *FSM) recordSkip(idx uint64) {
	err := f.state.Apply(idx, func(*storage.Tx) error { return nil })
	if err != nil && !errors.Is(err, storage.ErrAlreadyApplied) {
		panic(fmt.Sprintf("consensus: record index %d: %v", idx, err))
	}
}

// Snapshot implements raft.FSM. It takes a Pebble snapshot, which is cheap
// and lets Apply continue while Persist streams it.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	sn, err := f.state.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("consensus: snapshot: %w", err)
	}
	return &fsmSnapshot{sn: sn}, nil
}

// Restore implements raft.FSM: it replaces the whole state.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	defer f.notify()
	if err := f.state.Restore(rc); err != nil {
		return fmt.Errorf("consensus: restore: %w", err)
	}
	return nil
}

type fsmSnapshot struct{ sn *storage.Snapshot }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.sn.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("consensus: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.sn.Close() }

// asForwarded returns err as a forward delivers it (peer's wire format
// keeps only an errkind error's kind, message, fields and retry hint), so
// that a write proposed on the leader fails exactly as one forwarded from
// a follower.
func asForwarded(err error) error {
	if e := errkind.Of(err); e != nil {
		return e
	}
	return errkind.New(errkind.Internal, err.Error())
}
