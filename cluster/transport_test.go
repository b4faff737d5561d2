package cluster

import (
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/netfault"
)

// memberlist alone re-merges a healed partition only while it still gossips
// to the dead (GossipToTheDeadTime); past that, only the join loop's
// re-joins of dead members bring the sides back together.
func TestPartitionHeals(t *testing.T) {
	tests := []struct {
		name string
		hold time.Duration // partition kept this long after detection
	}{
		{"short", 0},
		{"past gossip to the dead", 6 * time.Second}, // local GossipToTheDeadTime is 5s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			faults := netfault.New()
			var nodes []*Cluster
			for _, name := range []string{"a", "b", "c"} {
				cfg := baseConfig(name)
				cfg.Faults = faults
				if len(nodes) > 0 {
					cfg.Join = []string{nodes[0].cfg.BindAddr}
				}
				nodes = append(nodes, start(t, cfg))
			}
			a, b, c := nodes[0], nodes[1], nodes[2]
			for _, obs := range nodes {
				eventually(t, 10*time.Second, sees(obs, StateAlive, "a", "b", "c"))
			}

			cut := time.Now()
			faults.Partition([]string{"a"}, []string{"b", "c"})
			eventually(t, 30*time.Second, all(
				sees(a, StateDead, "b", "c"),
				sees(b, StateDead, "a"), sees(c, StateDead, "a"),
				sees(b, StateAlive, "c"), sees(c, StateAlive, "b"),
			))
			detected := time.Now()
			t.Logf("partition detected on both sides after %v", detected.Sub(cut).Round(time.Millisecond))
			eventually(t, tt.hold+5*time.Second, func() string {
				if time.Since(detected) < tt.hold {
					return "holding the partition"
				}
				return ""
			})

			healed := time.Now()
			faults.Heal()
			for _, obs := range nodes {
				eventually(t, 30*time.Second, sees(obs, StateAlive, "a", "b", "c"))
			}
			t.Logf("healed after %v", time.Since(healed).Round(time.Millisecond))
		})
	}
}
