package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/node"
	"github.com/rendercache/rendercache/operator"
)

// AdminTokenCommand manages the operator's admin token without needing
// it: `rendercache admin-token reset` recovers from a lost token.
type AdminTokenCommand struct {
	Stdout io.Writer
	// Getenv defaults to os.Getenv; tests replace it.
	Getenv func(string) string

	dataDir string
}

// command is `rendercache admin-token`.
func (c *AdminTokenCommand) command() *cobra.Command {
	reset := &cobra.Command{
		Use:   "reset",
		Short: "replace a lost admin token (run where the node's data dir is)",
		Long: `Replace a lost admin token. Run it on the host of any one node, with that
node's data dir; the node may be running or stopped. It prints a new token once
and leaves only the token's SHA-256 hash in <data-dir>/` + operator.ResetFile + `.

Then (re)start that node. Once the cluster has a leader, the node replicates
the new hash through raft and removes the file: from then on the new token works
on every node and the old one on none. The cluster's state is never edited
offline, so no node diverges. A token given to a node with --admin-token keeps
working on that node until it is restarted without it.`,
		Example: `  rendercache admin-token reset --data-dir /var/lib/rc1
  systemctl restart rendercache     # or stop and start the node as you run it`,
		Annotations: map[string]string{envAnnotation: "true"},
		Args:        noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			getenv := c.Getenv
			if getenv == nil {
				getenv = os.Getenv
			}
			if err := applyEnv(cmd.Flags(), getenv); err != nil {
				return &usageError{cmd: "admin-token reset", err: err}
			}
			return c.Reset()
		},
	}
	reset.Flags().StringVar(&c.dataDir, "data-dir", node.Default().DataDir, "the data dir of the node that applies the reset (as given to serve)")
	cmd := group("admin-token", "replace a lost admin token (admin-token reset --help)", reset)
	cmd.Long = `Manage the operator's admin token without knowing it.

  reset   replace a lost admin token (see 'rendercache admin-token reset --help')`
	return cmd
}

// Reset writes a pending reset into the data dir and prints the new token.
func (c *AdminTokenCommand) Reset() error {
	token, err := operator.WriteReset(c.dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, `New admin token (shown once, stored only as a hash):

    %s

Now (re)start the node whose data dir is %s. Once it has a leader it replaces
the cluster's admin token: the new token works on every node, the old one on none.
`, token, c.dataDir)
	return nil
}
