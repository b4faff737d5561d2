package testcluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// pollEvery is how often the Wait helpers re-check their condition.
const pollEvery = 20 * time.Millisecond

// poll calls cond until it returns nil or ctx ends, then returns the last
// error describing what was still missing.
func poll(ctx context.Context, what string, cond func() error) error {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testcluster: waiting for %s: %w (last: %v)", what, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// WaitLeader waits until every running node agrees on one leader and
// returns its index.
func (c *Cluster) WaitLeader(ctx context.Context) (int, error) {
	leader := -1
	err := poll(ctx, "a leader", func() error {
		name := ""
		for i := range c.specs {
			n := c.Node(i)
			if n == nil {
				continue
			}
			l := n.Raft().Leader()
			if l == "" {
				return fmt.Errorf("%s knows no leader", c.specs[i].name)
			}
			if name != "" && l != name {
				return fmt.Errorf("nodes disagree: %s vs %s", name, l)
			}
			name = l
		}
		leader = c.Index(name)
		if leader < 0 || c.Node(leader) == nil || !c.Node(leader).Raft().IsLeader() {
			return fmt.Errorf("leader %q is not running as leader", name)
		}
		return nil
	})
	return leader, err
}

// WaitMembers waits until every running node sees exactly n alive gossip
// members.
func (c *Cluster) WaitMembers(ctx context.Context, n int) error {
	return poll(ctx, fmt.Sprintf("%d alive members", n), func() error {
		for i := range c.specs {
			nd := c.Node(i)
			if nd == nil {
				continue
			}
			alive := 0
			for _, m := range nd.Members().Members() {
				if m.State.String() == "alive" {
					alive++
				}
			}
			if alive != n {
				return fmt.Errorf("%s sees %d alive", c.specs[i].name, alive)
			}
		}
		return nil
	})
}

// WaitServers waits until the leader's raft configuration holds n servers.
func (c *Cluster) WaitServers(ctx context.Context, n int) error {
	return poll(ctx, fmt.Sprintf("%d raft servers", n), func() error {
		l := c.Leader()
		if l < 0 {
			return fmt.Errorf("no leader")
		}
		nd := c.Node(l)
		if nd == nil {
			return fmt.Errorf("leader is down")
		}
		if st := nd.Raft().Status(); len(st.Servers) != n {
			// Say what every node sees, so that a start that never
			// converges can be diagnosed from the failure alone.
			return fmt.Errorf("leader %s has %d servers %v; %s", c.specs[l].name, len(st.Servers), st.Servers, c.views())
		}
		return nil
	})
}

// views describes each running node's gossip view and raft state.
func (c *Cluster) views() string {
	var out []string
	for i := range c.specs {
		nd := c.Node(i)
		if nd == nil {
			out = append(out, c.specs[i].name+" down")
			continue
		}
		var members []string
		for _, m := range nd.Members().Members() {
			members = append(members, fmt.Sprintf("%s=%s@%s", m.Name, m.State, m.GossipAddr))
		}
		st := nd.Raft().Status()
		out = append(out, fmt.Sprintf("%s@%s (raft %s, leader %q) sees %v", c.specs[i].name, c.specs[i].gossip, st.State, st.Leader, members))
	}
	return strings.Join(out, "; ")
}

// Suffrages returns, from the leader's configuration, how many voters and
// non-voters there are.
func (c *Cluster) Suffrages() (voters, nonvoters int, err error) {
	l := c.Leader()
	if l < 0 {
		return 0, 0, fmt.Errorf("no leader")
	}
	for _, s := range c.Node(l).Raft().Status().Servers {
		if s.Suffrage == "voter" {
			voters++
		} else {
			nonvoters++
		}
	}
	return voters, nonvoters, nil
}

// WaitConverged waits until every running node has applied the same index
// and holds a byte-identical state (equal hashes).
func (c *Cluster) WaitConverged(ctx context.Context) error {
	return poll(ctx, "converged state", func() error {
		var (
			first   string
			sum0    [32]byte
			idx0    uint64
			started bool
		)
		for i := range c.specs {
			n := c.Node(i)
			if n == nil {
				continue
			}
			sum, idx, err := n.State().Hash()
			if err != nil {
				return err
			}
			if !started {
				first, sum0, idx0, started = c.specs[i].name, sum, idx, true
				continue
			}
			if idx != idx0 || sum != sum0 {
				return fmt.Errorf("%s at index %d differs from %s at index %d", c.specs[i].name, idx, first, idx0)
			}
		}
		return nil
	})
}

// WaitRing waits until every running node's cache ring holds exactly the
// running nodes, so all of them agree on every key's owner.
func (c *Cluster) WaitRing(ctx context.Context) error {
	return poll(ctx, "cache rings agree", func() error {
		var want []string
		for i := range c.specs {
			if c.Node(i) != nil {
				want = append(want, c.specs[i].name)
			}
		}
		slices.Sort(want)
		for i := range c.specs {
			n := c.Node(i)
			if n == nil {
				continue
			}
			got := slices.Sorted(maps.Keys(n.Ring().Members()))
			if !slices.Equal(got, want) {
				return fmt.Errorf("%s's ring is %v, want %v", c.specs[i].name, got, want)
			}
		}
		return nil
	})
}
