package node

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rendercache/rendercache/cluster"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/httpapi/admin"
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

// infoCatchUp bounds how long /admin/cluster waits to catch up with the
// leader before answering with what this node knows.
const infoCatchUp = time.Second

// clusterView answers /admin/cluster and /readyz.
type clusterView struct{ n *Node }

// Info is this node's view of the cluster. It first catches up with the
// leader, so that after a membership change committed anywhere every node
// reports the same voters; that wait is bounded and best effort, because
// a node without a leader is exactly where an operator needs its view.
func (v clusterView) Info(ctx context.Context) (admin.ClusterInfo, error) {
	fctx, cancel := context.WithTimeout(ctx, infoCatchUp)
	err := v.n.raft.Fresh(fctx)
	cancel()
	if err != nil {
		v.n.log.Debug("cluster info without catching up", "err", err)
	}
	st := v.n.raft.Status()
	info := admin.ClusterInfo{Leader: st.Leader, AppliedIndex: st.AppliedIndex, Nodes: []admin.ClusterNode{}}
	seen := map[string]bool{}
	for _, m := range v.n.members.Members() {
		seen[m.Name] = true
		node := admin.ClusterNode{Name: m.Name, State: m.State.String(), Suffrage: "none", HTTPAddr: m.Meta.HTTPAddr}
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
			info.Nodes = append(info.Nodes, admin.ClusterNode{Name: s.ID, State: "unknown", Suffrage: s.Suffrage})
		}
	}
	slices.SortFunc(info.Nodes, func(a, b admin.ClusterNode) int { return strings.Compare(a.Name, b.Name) })
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
	n.registerCacheMetrics(gauge)
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

// registerCacheMetrics exports the render tier and the page cache.
func (n *Node) registerCacheMetrics(gauge func(name, help string, f func() float64) prometheus.Collector) {
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	st := n.pages.Stats()
	n.registry.MustRegister(
		counter("rendercache_page_renders_total", "Renders this node started for cache fills.", func() float64 { return float64(st.Renders.Load()) }),
		counter("rendercache_page_render_failures_total", "Renders that failed (timeouts, origin 5xx, empty pages) and were not cached.", func() float64 { return float64(st.RenderFailures.Load()) }),
		counter("rendercache_page_l2_hits_total", "Cache fills answered from the on-disk L2.", func() float64 { return float64(st.L2Hits.Load()) }),
		counter("rendercache_page_revalidations_total", "Background re-renders of stale pages.", func() float64 { return float64(st.Revalidations.Load()) }),
		counter("rendercache_cache_gets_total", "Page cache lookups on this node.", func() float64 { g, _, _ := n.pages.Group().Stats(); return float64(g.Gets.Get()) }),
		counter("rendercache_cache_hits_total", "Page cache lookups answered from this node's memory.", func() float64 { g, _, _ := n.pages.Group().Stats(); return float64(g.CacheHits.Get()) }),
		counter("rendercache_cache_peer_loads_total", "Page cache lookups answered by the key's owner.", func() float64 { g, _, _ := n.pages.Group().Stats(); return float64(g.PeerLoads.Get()) }),
		counter("rendercache_cache_peer_errors_total", "Failed calls to a key's owner (the node then fills locally).", func() float64 { g, _, _ := n.pages.Group().Stats(); return float64(g.PeerErrors.Get()) }),
		counter("rendercache_cache_local_loads_total", "Cache fills run on this node.", func() float64 { g, _, _ := n.pages.Group().Stats(); return float64(g.LocalLoads.Get()) }),
		gauge("rendercache_cache_memory_bytes", "Bytes of pages in this node's memory (main and hot caches).", func() float64 {
			_, m, h := n.pages.Group().Stats()
			return float64(m.Bytes + h.Bytes)
		}),
		gauge("rendercache_l2_bytes", "Bytes of pages in this node's on-disk L2.", func() float64 { b, _ := n.store.Size(); return float64(b) }),
		gauge("rendercache_l2_entries", "Pages in this node's on-disk L2.", func() float64 { _, e := n.store.Size(); return float64(e) }),
		n.pages.Collector(),
	)
	// The render pool's queue, wait and stage metrics. An injected
	// renderer (tests share one browser between nodes) has its own when it
	// is a pool; each node's registry is its own, so registering it on
	// several is no duplicate.
	var renderer any = n.cfg.Renderer
	if n.browser != nil {
		renderer = n.browser
	}
	if c, ok := renderer.(interface{ Collector() prometheus.Collector }); ok {
		n.registry.MustRegister(c.Collector())
	}
	if n.browser == nil {
		return
	}
	b := n.browser
	n.registry.MustRegister(
		gauge("rendercache_render_queue_length", "Renders waiting for a browser slot.", func() float64 { return float64(b.Stats().Queued) }),
		gauge("rendercache_render_active", "Renders running in the browser.", func() float64 { return float64(b.Stats().Active) }),
		counter("rendercache_render_total", "Renders attempted by the browser pool.", func() float64 { return float64(b.Stats().Renders) }),
		counter("rendercache_render_failures_total", "Renders that failed in the browser pool.", func() float64 { return float64(b.Stats().Failures) }),
		counter("rendercache_render_browser_restarts_total", "Chromium restarts after a crash or hang.", func() float64 { return float64(b.Stats().Restarts) }),
	)
}
