package consensus

import (
	"errors"

	"github.com/rendercache/rendercache/internal/errkind"
)

var (
	// ErrBadCommand means a command could not be decoded or is malformed.
	ErrBadCommand = errors.New("bad command")
	// ErrCommandTooLarge means an encoded command is over MaxCommandBytes.
	ErrCommandTooLarge = errors.New("command too large")
	// ErrUnknownCommand is the result of applying a command type that this
	// node's binary does not know (a newer node's command during an upgrade).
	ErrUnknownCommand = errors.New("unknown command type")
	// ErrNoLeader is returned when no leader can be reached: the node is
	// partitioned or an election is in progress. Writes and fresh reads are
	// unavailable; cached pages keep being served.
	ErrNoLeader = errkind.New(errkind.Unavailable, "no cluster leader is reachable; writes are unavailable, retry later")
	// ErrNotLeader is returned by leader-only operations on a follower.
	ErrNotLeader = errkind.New(errkind.Unavailable, "this node is not the leader")
	// ErrShutdown is returned after Shutdown.
	ErrShutdown = errkind.New(errkind.Unavailable, "node is shutting down")
	// ErrOutcomeUnknown is returned when leadership was lost after a write
	// was proposed: it may or may not have been committed.
	ErrOutcomeUnknown = errkind.New(errkind.Unavailable, "leadership changed while writing; the write may or may not have been applied, retry if it is idempotent")
)
