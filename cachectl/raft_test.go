package cachectl

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

// single is a one-node raft cluster over Pebble in a temp dir, so the
// services under test propose and read exactly as on a real node.
type single struct {
	raft  *consensus.Raft
	db    *storage.DB
	state *storage.State
	// register installs every command the test uses; replicas replay the
	// log through the same handlers.
	register func(*consensus.FSM)
}

type noPeers struct{}

func (noPeers) Peers() []consensus.Peer { return nil }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startSingle(t *testing.T, register func(*consensus.FSM)) *single {
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
	return &single{raft: r, db: db, state: db.State(), register: register}
}

// requireDeterministic replays every command in s's raft log into two
// fresh state machines and checks that each ends in exactly s's state:
// Apply is a pure function of the log.
func (s *single) requireDeterministic(t *testing.T) {
	t.Helper()
	want, wantIdx, err := s.state.Hash()
	if err != nil {
		t.Fatal(err)
	}
	logs := s.db.LogStore()
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
		s.register(fsm)
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
