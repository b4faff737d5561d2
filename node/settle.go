package node

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rendercache/rendercache/consensus"
)

// settling is the proposer of the services whose state the serve path
// reads on every node (zones, tenants and their domains, versions and
// credentials): each write returns only once every live node has applied
// it (cachectl.Service.Settle), so that once it answers 2xx no node
// serves, or accepts, what it replaced. Handlers need not remember to
// wait, write by write.
type settling struct {
	consensus.Proposer
	settle func(ctx context.Context) error
}

// Apply implements consensus.Applier.
func (p settling) Apply(ctx context.Context, cmd consensus.Command) (json.RawMessage, error) {
	raw, err := p.Proposer.Apply(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if err := p.settle(ctx); err != nil {
		return nil, fmt.Errorf("settle: %w", err)
	}
	return raw, nil
}

// settlingRaft returns the node's raft as a settling proposer. The cache
// control service it settles through is made later; it exists before any
// write is served.
func (n *Node) settlingRaft() consensus.Proposer {
	return settling{Proposer: n.raft, settle: func(ctx context.Context) error {
		_, err := n.ctl.Settle(ctx)
		return err
	}}
}
