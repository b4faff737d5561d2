package node

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rendercache/rendercache/tenanttraffic"
)

// startTraffic creates the tenant traffic accounting, which the tenant
// surface tells of every request: counters reported through raft every
// usage report interval, and a request log in this node's Pebble that
// reads gather from every live member. Its loops run until ctx ends.
func (n *Node) startTraffic(ctx context.Context) error {
	t, err := tenanttraffic.New(tenanttraffic.Config{
		Node:           n.cfg.Name,
		Raft:           n.raft,
		State:          n.db.State(),
		Local:          n.db.Local(),
		Members:        n.trafficMembers,
		Client:         n.peerClient(10 * time.Second),
		ReportInterval: n.cfg.UsageReportInterval,
		Logger:         n.log.With("subsystem", "tenanttraffic"),
	})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.traffic = t
	n.wg.Add(1)
	go func() { defer n.wg.Done(); t.Run(ctx) }()
	counter := func(name, help string, f func(tenanttraffic.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(t.Stats())) })
	}
	n.registry.MustRegister(
		counter("rendercache_tenant_log_entries_written_total", "Tenant request log entries this node wrote.",
			func(s tenanttraffic.Stats) int64 { return s.Written }),
		counter("rendercache_tenant_log_entries_dropped_total", "Tenant request log entries dropped because the write buffer was full.",
			func(s tenanttraffic.Stats) int64 { return s.Dropped }),
		counter("rendercache_tenant_log_entries_pruned_total", "Tenant request log entries deleted past their retention or per-tenant bound.",
			func(s tenanttraffic.Stats) int64 { return s.Pruned }),
		counter("rendercache_tenant_requests_uncounted_total", "Tenant requests left out of usage because the node counted too many tenant-days at once.",
			func(s tenanttraffic.Stats) int64 { return s.Uncounted }),
	)
	return nil
}

// trafficMembers lists the live members for the log gathering.
func (n *Node) trafficMembers() []tenanttraffic.Member {
	live := n.liveMembers()
	out := make([]tenanttraffic.Member, len(live))
	for i, m := range live {
		out[i] = tenanttraffic.Member{Name: m.Name, InternalAddr: m.InternalAddr}
	}
	return out
}
