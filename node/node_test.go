package node_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/netfault"
	"github.com/rendercache/rendercache/node"
	"github.com/rendercache/rendercache/render"
)

// refuser stands in for Chromium: these tests never render.
type refuser struct{}

func (refuser) Render(context.Context, render.Request) (render.Result, error) {
	return render.Result{}, errors.New("no renderer in this test")
}

// A start that fails half-way (here: the gossip port is taken) must not
// leave the node cut off in the fault injector, or the retried start, with
// the same name, could never reach its peers.
func TestFailedStartDoesNotIsolate(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	faults := netfault.New()
	const peer = "127.0.0.1:9"
	faults.Register("n2", peer)

	cfg := node.Default()
	cfg.Name = "n1"
	cfg.DataDir = t.TempDir()
	cfg.HTTPAddr, cfg.InternalAddr, cfg.RaftAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.GossipAddr = busy.Addr().String()
	cfg.ClusterKey = make([]byte, node.ClusterKeySize)
	rand.Read(cfg.ClusterKey)
	cfg.Faults = faults
	cfg.Renderer = refuser{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	n, err := node.Start(ctx, cfg)
	if err == nil {
		n.Kill()
		t.Fatal("start succeeded on a gossip port that is taken")
	}
	if !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("start failed for another reason: %v", err)
	}
	if !faults.Allowed("n1", peer) {
		t.Fatal("the failed start left n1 isolated from its peers")
	}
}
