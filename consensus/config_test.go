package consensus

import (
	"strings"
	"testing"
	"time"
)

// Default and Fast timings are valid, and Validate explains timings that
// cannot work: a leader wait shorter than an election made a fresh node's
// first write fail before its own election could finish.
func TestConfigValidate(t *testing.T) {
	base := Default()
	base.NodeID, base.BindAddr, base.SnapshotDir = "n1", "127.0.0.1:0", t.TempDir()
	cases := []struct {
		name string
		edit func(*Config)
		want string // "" is valid
	}{
		{"production defaults", func(*Config) {}, ""},
		{"test timings", func(c *Config) { *c = c.Fast() }, ""},
		{"leader wait shorter than an election", func(c *Config) { c.LeaderWait = 3 * time.Second }, "leader wait"},
		{"lease past heartbeat", func(c *Config) { c.LeaderLeaseTimeout = 3 * time.Second }, "lease"},
		{"election below heartbeat", func(c *Config) { c.ElectionTimeout = time.Second }, "election timeout"},
		{"no node ID", func(c *Config) { c.NodeID = "" }, "node ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid config refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}
