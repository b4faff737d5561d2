package consensus

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rendercache/rendercache/internal/netfault"
)

// Config configures a node's raft participation. Build one with Default and
// check it with Validate.
type Config struct {
	// NodeID is the raft server ID; it is the node's unique name.
	NodeID string
	// BindAddr is the raft TCP listen address (host:port).
	BindAddr string
	// AdvertiseAddr is the address other nodes dial; defaults to the bound
	// address.
	AdvertiseAddr string
	// SnapshotDir holds raft snapshots. Required.
	SnapshotDir string

	// Voters is how many voters the leader keeps in the configuration;
	// further nodes join as non-voters. Default 3. Use an odd number.
	Voters int
	// DeadNodeTimeout is how long a node may be dead before the leader
	// removes it from the configuration and promotes a non-voter in its
	// place. Default 30s.
	DeadNodeTimeout time.Duration
	// ReconcileInterval is how often the leader reconciles the raft
	// configuration with membership, besides on every membership event.
	// Default 1s.
	ReconcileInterval time.Duration

	// HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout and
	// CommitTimeout are raft's timings. Defaults are 2s, 2s, 1s and 50ms:
	// twice raft's own, because a node also runs Chromium, and a leader
	// whose heartbeats were starved for 550-666 ms by renders on 2 cores
	// stepped down under raft's 500ms lease. A failed leader is replaced
	// within about 2-4 s. Tests use Fast.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// SnapshotThreshold is how many log entries trigger a snapshot; default
	// 8192. TrailingLogs is how many entries stay after a snapshot so slow
	// followers can catch up from the log; default 10240.
	SnapshotThreshold uint64
	TrailingLogs      uint64
	// SnapshotInterval is how often raft checks SnapshotThreshold; default
	// 2m.
	SnapshotInterval time.Duration

	// ApplyTimeout bounds a write when the caller's context has no
	// deadline. Default 10s.
	ApplyTimeout time.Duration
	// LeaderWait is how long a write or fresh read waits for a leader to
	// appear before failing with ErrNoLeader. It must cover an election:
	// followers notice a lost leader after one to two heartbeat timeouts
	// (raft randomises it) and then vote, so it is at least twice the
	// heartbeat timeout plus the election timeout. Default 6s.
	LeaderWait time.Duration

	// Logger receives raft's logs under subsystem "raft". Default
	// slog.Default().
	Logger *slog.Logger
	// Faults injects partitions into the raft stream layer; nil in
	// production.
	Faults *netfault.Injector
}

// Default returns production settings; NodeID, BindAddr and SnapshotDir
// still need to be set.
func Default() Config {
	return Config{
		Voters:             3,
		DeadNodeTimeout:    30 * time.Second,
		ReconcileInterval:  time.Second,
		HeartbeatTimeout:   2 * time.Second,
		ElectionTimeout:    2 * time.Second,
		LeaderLeaseTimeout: time.Second,
		CommitTimeout:      50 * time.Millisecond,
		SnapshotThreshold:  8192,
		TrailingLogs:       10240,
		SnapshotInterval:   2 * time.Minute,
		ApplyTimeout:       10 * time.Second,
		LeaderWait:         6 * time.Second,
	}
}

// Fast shortens c's timings for in-process test clusters on loopback, where
// elections may take a second instead of several. The lease still leaves
// half a second for a heartbeat round: tests run under -race on two cores
// beside Chromium, and a 200ms lease made leaders step down mid-test.
func (c Config) Fast() Config {
	c.HeartbeatTimeout = 700 * time.Millisecond
	c.ElectionTimeout = 700 * time.Millisecond
	c.LeaderLeaseTimeout = 500 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.ReconcileInterval = 200 * time.Millisecond
	c.LeaderWait = 2100 * time.Millisecond
	c.SnapshotInterval = 5 * time.Second
	return c
}

// Validate explains the first setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.NodeID == "" {
		bad("node ID is required")
	}
	if c.BindAddr == "" {
		bad("raft bind address is required")
	}
	if c.SnapshotDir == "" {
		bad("snapshot directory is required")
	}
	if c.Voters < 1 {
		bad("voters must be at least 1, got %d", c.Voters)
	}
	if c.DeadNodeTimeout < c.HeartbeatTimeout {
		bad("dead node timeout %s must be at least the heartbeat timeout %s, or live nodes get removed", c.DeadNodeTimeout, c.HeartbeatTimeout)
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		bad("leader lease timeout %s must not exceed the heartbeat timeout %s", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	}
	if c.ElectionTimeout < c.HeartbeatTimeout {
		bad("election timeout %s must be at least the heartbeat timeout %s", c.ElectionTimeout, c.HeartbeatTimeout)
	}
	if min := 2*c.HeartbeatTimeout + c.ElectionTimeout; c.LeaderWait < min {
		bad("leader wait %s must cover an election, at least twice the heartbeat timeout plus the election timeout (%s)", c.LeaderWait, min)
	}
	if c.ApplyTimeout <= 0 || c.LeaderWait <= 0 || c.ReconcileInterval <= 0 {
		bad("apply timeout, leader wait and reconcile interval must be positive")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("consensus: config: %w", err)
	}
	return nil
}
