package node

import (
	"context"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rendercache/rendercache/cluster"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/httpapi"
)

// membership adapts the gossip view to what consensus needs.
type membership struct{ n *Node }

func (m membership) Peers() []consensus.Peer {
	if m.n.members == nil {
		return nil
	}
	ms := m.n.members.Members()
	out := make([]consensus.Peer, 0, len(ms))
	for _, mem := range ms {
		st := consensus.PeerAlive
		switch mem.State {
		case cluster.StateDead:
			st = consensus.PeerDead
		case cluster.StateLeft:
			st = consensus.PeerLeft
		}
		out = append(out, consensus.Peer{ID: mem.Name, RaftAddr: mem.Meta.RaftAddr, InternalAddr: mem.Meta.InternalAddr, Status: st, Since: mem.Since})
	}
	return out
}

// clusterView answers /admin/cluster and /readyz.
type clusterView struct{ n *Node }

func (v clusterView) Info(ctx context.Context) (httpapi.ClusterInfo, error) {
	st := v.n.raft.Status()
	info := httpapi.ClusterInfo{Leader: st.Leader, AppliedIndex: st.AppliedIndex, Nodes: []httpapi.ClusterNode{}}
	seen := map[string]bool{}
	for _, m := range v.n.members.Members() {
		seen[m.Name] = true
		node := httpapi.ClusterNode{Name: m.Name, State: m.State.String(), Suffrage: "none", HTTPAddr: m.Meta.HTTPAddr}
		if m.Name == st.Leader {
			node.State = "leader"
		}
		for _, s := range st.Servers {
			if s.ID == m.Name {
				node.Suffrage = s.Suffrage
			}
		}
		info.Nodes = append(info.Nodes, node)
	}
	// Servers raft still counts but gossip has forgotten.
	for _, s := range st.Servers {
		if !seen[s.ID] {
			info.Nodes = append(info.Nodes, httpapi.ClusterNode{Name: s.ID, State: "unknown", Suffrage: s.Suffrage})
		}
	}
	slices.SortFunc(info.Nodes, func(a, b httpapi.ClusterNode) int { return strings.Compare(a.Name, b.Name) })
	return info, nil
}

func (v clusterView) Ready() (bool, string) {
	if v.n.raft.Leader() == "" {
		return false, "no leader"
	}
	if !v.n.raft.Ready() {
		return false, "catching up with the leader"
	}
	return true, ""
}

func (n *Node) registerMetrics() {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	n.registry.MustRegister(
		gauge("rendercache_raft_leader", "1 if this node is the raft leader.", func() float64 {
			if n.raft.IsLeader() {
				return 1
			}
			return 0
		}),
		gauge("rendercache_raft_has_leader", "1 if this node knows a leader.", func() float64 {
			if n.raft.Leader() != "" {
				return 1
			}
			return 0
		}),
		gauge("rendercache_raft_term", "Current raft term.", func() float64 { return float64(n.raft.Status().Term) }),
		gauge("rendercache_raft_commit_index", "Raft commit index known to this node.", func() float64 { return float64(n.raft.Status().CommitIndex) }),
		gauge("rendercache_raft_applied_index", "Index of the last command applied to this node's state.", func() float64 { return float64(n.raft.FSM().Applied()) }),
		gauge("rendercache_raft_voters", "Voters in the raft configuration.", func() float64 { return float64(countSuffrage(n.raft.Status().Servers, "voter")) }),
		gauge("rendercache_raft_nonvoters", "Non-voters in the raft configuration.", func() float64 { return float64(countSuffrage(n.raft.Status().Servers, "nonvoter")) }),
	)
	members := prometheus.NewDesc("rendercache_cluster_members", "Gossip members by state as seen by this node.", []string{"state"}, nil)
	n.registry.MustRegister(collectorFunc{desc: members, collect: func(ch chan<- prometheus.Metric) {
		counts := map[string]int{"alive": 0, "dead": 0, "left": 0}
		for _, m := range n.members.Members() {
			counts[m.State.String()]++
		}
		for st, c := range counts {
			ch <- prometheus.MustNewConstMetric(members, prometheus.GaugeValue, float64(c), st)
		}
	}})
}

func countSuffrage(servers []consensus.Server, suffrage string) int {
	c := 0
	for _, s := range servers {
		if s.Suffrage == suffrage {
			c++
		}
	}
	return c
}

type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
