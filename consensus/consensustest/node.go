package consensustest

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/storage"
)

// Node is a one-node raft cluster over Pebble in a temp dir, so the
// services under test propose and read exactly as on a real node. Raft, DB
// and State are as safe for concurrent use as their types are.
type Node struct {
	Raft  *consensus.Raft
	DB    *storage.DB
	State *storage.State

	// register installs every command the test uses; replicas replay the
	// log through the same handlers.
	register func(*consensus.FSM)
}

// noPeers is a membership with nobody else in it.
type noPeers struct{}

var _ consensus.Membership = noPeers{}

func (noPeers) Peers() []consensus.Peer { return nil }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Start opens Pebble in a temp dir of t, registers the test's commands with
// register, bootstraps a single voter and returns once it is leader. The
// node is shut down and Pebble closed when t ends.
func Start(t testing.TB, register func(*consensus.FSM)) *Node {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "state"), storage.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	fsm := consensus.NewFSM(db.State(), quiet())
	register(fsm)
	cfg := consensus.Default().Fast()
	// One voter has nobody to lose touch with: short timeouts only make
	// it elect itself sooner.
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	cfg.NodeID, cfg.BindAddr, cfg.SnapshotDir, cfg.Logger = "n1", "127.0.0.1:0", filepath.Join(dir, "snapshots"), quiet()
	r, err := consensus.New(cfg, db, fsm, noPeers{}, http.DefaultClient)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Shutdown()
		db.Close()
	})
	if _, err := r.BootstrapIfNew(db); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !r.IsLeader(); {
		if time.Now().After(deadline) {
			t.Fatal("the single node did not become leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &Node{Raft: r, DB: db, State: db.State(), register: register}
}

// RequireDeterministic replays every command in n's raft log into two
// fresh state machines and checks that each ends in exactly n's state:
// Apply is a pure function of the log. Call it once the test's writes
// have returned; a write still in flight makes the states differ.
func (n *Node) RequireDeterministic(t testing.TB) {
	t.Helper()
	want, wantIdx, err := n.State.Hash()
	if err != nil {
		t.Fatal(err)
	}
	logs := n.DB.LogStore()
	first, err := logs.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	last, err := logs.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	for replica := range 2 {
		db, err := storage.Open(t.TempDir(), storage.Options{Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		fsm := consensus.NewFSM(db.State(), quiet())
		n.register(fsm)
		for i := first; i <= last; i++ {
			var l raft.Log
			if err := logs.GetLog(i, &l); err != nil {
				t.Fatal(err)
			}
			if l.Type == raft.LogCommand {
				fsm.Apply(&l)
			}
		}
		got, gotIdx, err := db.State().Hash()
		if err != nil {
			t.Fatal(err)
		}
		if got != want || gotIdx != wantIdx {
			t.Fatalf("replica %d replaying log %d..%d: state %x at %d, want %x at %d", replica, first, last, got[:6], gotIdx, want[:6], wantIdx)
		}
	}
}
