package consensus

import (
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"
)

// PeerStatus is what membership knows about a peer's liveness.
type PeerStatus int

// Peer statuses.
const (
	PeerAlive PeerStatus = iota
	PeerDead             // failed: removed after DeadNodeTimeout
	PeerLeft             // left gracefully: removed at once
)

// Peer is a cluster member as consensus needs to see it.
type Peer struct {
	ID           string
	RaftAddr     string
	InternalAddr string
	Status       PeerStatus
	Since        time.Time // when Status was first observed
}

// Membership tells consensus who is in the cluster. The cluster package's
// gossip view satisfies it through a small adapter in node.
type Membership interface {
	Peers() []Peer
}

func (n *Raft) reconcileLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.ReconcileInterval)
	defer t.Stop()
	deadSince := map[string]time.Time{}
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		case <-n.kick:
		}
		if !n.IsLeader() {
			clear(deadSince)
			continue
		}
		n.reconcile(deadSince, time.Now())
	}
}

// reconcile moves the raft configuration one step towards membership:
// alive nodes join (as voters up to cfg.Voters), nodes that left are removed
// at once, nodes dead for DeadNodeTimeout are removed, and non-voters are
// promoted to keep the voter count. deadSince remembers, per server, when
// this leader first saw it not alive; it starts at the leader's own first
// observation so a new leader never removes a node too early.
func (n *Raft) reconcile(deadSince map[string]time.Time, now time.Time) {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	servers := f.Configuration().Servers
	peers := map[string]Peer{}
	for _, p := range n.members.Peers() {
		peers[p.ID] = p
	}
	self := raft.ServerID(n.cfg.NodeID)
	inConfig := map[string]raft.Server{}
	voters := 0
	for _, s := range servers {
		inConfig[string(s.ID)] = s
		if s.Suffrage == raft.Voter {
			voters++
		}
	}

	// Remove nodes that left or have been dead too long.
	for _, s := range servers {
		if s.ID == self {
			continue
		}
		id := string(s.ID)
		p, known := peers[id]
		switch {
		case known && p.Status == PeerLeft:
			n.log.Info("removing server that left", "id", id)
		case !known || p.Status == PeerDead:
			first, ok := deadSince[id]
			if !ok {
				deadSince[id] = now
				continue
			}
			if now.Sub(first) < n.cfg.DeadNodeTimeout {
				continue
			}
			n.log.Warn("removing dead server", "id", id, "deadFor", now.Sub(first).Round(time.Millisecond))
		default:
			delete(deadSince, id)
			if p.RaftAddr != "" && p.RaftAddr != string(s.Address) {
				// Same node, new address (restarted elsewhere): re-add keeps
				// its suffrage.
				n.addServer(p, s.Suffrage == raft.Voter)
			}
			continue
		}
		if err := n.removeServer(id); err != nil {
			n.log.Warn("remove server failed", "id", id, "err", err)
			return
		}
		delete(deadSince, id)
		delete(inConfig, id)
		if s.Suffrage == raft.Voter {
			voters--
		}
	}

	// Add alive members that are not in the configuration.
	var alive []Peer
	for _, p := range peers {
		if p.Status == PeerAlive && p.RaftAddr != "" {
			alive = append(alive, p)
		}
	}
	slices.SortFunc(alive, func(a, b Peer) int { return strings.Compare(a.ID, b.ID) })
	for _, p := range alive {
		if _, ok := inConfig[p.ID]; ok {
			continue
		}
		if n.leftSince(p.ID, p.Since) {
			continue // left gracefully; gossip has not caught up yet
		}
		asVoter := voters < n.cfg.Voters
		if !n.addServer(p, asVoter) {
			return
		}
		inConfig[p.ID] = raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)}
		if asVoter {
			voters++
		}
	}

	// Promote alive non-voters while voters are missing.
	for _, p := range alive {
		if voters >= n.cfg.Voters {
			break
		}
		s, ok := inConfig[p.ID]
		if !ok || s.Suffrage == raft.Voter {
			continue
		}
		if existing := findServer(servers, p.ID); existing != nil && existing.Suffrage == raft.Voter {
			continue
		}
		if !n.addServer(p, true) {
			return
		}
		voters++
	}

	// Demote surplus voters (after --voters was lowered), never the leader.
	if voters > n.cfg.Voters {
		for _, s := range servers {
			if voters <= n.cfg.Voters {
				break
			}
			if s.ID == self || s.Suffrage != raft.Voter {
				continue
			}
			if _, ok := inConfig[string(s.ID)]; !ok {
				continue
			}
			if err := n.raft.DemoteVoter(s.ID, 0, 10*time.Second).Error(); err != nil {
				n.log.Warn("demote voter failed", "id", s.ID, "err", err)
				return
			}
			n.log.Info("demoted surplus voter", "id", s.ID)
			voters--
		}
	}
}

func (n *Raft) addServer(p Peer, voter bool) bool {
	var f raft.IndexFuture
	if voter {
		f = n.raft.AddVoter(raft.ServerID(p.ID), raft.ServerAddress(p.RaftAddr), 0, 10*time.Second)
	} else {
		f = n.raft.AddNonvoter(raft.ServerID(p.ID), raft.ServerAddress(p.RaftAddr), 0, 10*time.Second)
	}
	if err := f.Error(); err != nil {
		n.log.Warn("add server failed", "id", p.ID, "voter", voter, "err", err)
		return false
	}
	n.log.Info("added server", "id", p.ID, "addr", p.RaftAddr, "voter", voter)
	return true
}

func findServer(servers []raft.Server, id string) *raft.Server {
	for i := range servers {
		if string(servers[i].ID) == id {
			return &servers[i]
		}
	}
	return nil
}
