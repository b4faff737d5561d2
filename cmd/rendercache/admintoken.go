package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/rendercache/rendercache/node"
	"github.com/rendercache/rendercache/operator"
)

// AdminTokenCommand manages the operator's admin token without needing
// it: `rendercache admin-token reset` recovers from a lost token.
type AdminTokenCommand struct {
	Stdout io.Writer
	// Getenv defaults to os.Getenv; tests replace it.
	Getenv func(string) string
}

var (
	adminTokenCmd = command{
		name: "admin-token",
		args: "reset [flags]",
		summary: `Manage the operator's admin token without knowing it.

  reset   replace a lost admin token (see 'rendercache admin-token reset --help')`,
	}
	adminTokenResetCmd = command{
		name: "admin-token reset",
		args: "[--data-dir DIR]",
		env:  true,
		summary: `Replace a lost admin token. Run it on the host of any one node, with that
node's data dir; the node may be running or stopped. It prints a new token once
and leaves only the token's SHA-256 hash in <data-dir>/` + operator.ResetFile + `.

Then (re)start that node. Once the cluster has a leader, the node replicates
the new hash through raft and removes the file: from then on the new token works
on every node and the old one on none. The cluster's state is never edited
offline, so no node diverges. A token given to a node with --admin-token keeps
working on that node until it is restarted without it.`,
		examples: `  rendercache admin-token reset --data-dir /var/lib/rc1
  systemctl restart rendercache     # or stop and start the node as you run it
`,
	}
)

// Run dispatches to the admin-token subcommands.
func (c *AdminTokenCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("admin-token", flag.ContinueOnError)
	if len(args) > 0 && args[0] == "reset" {
		return c.reset(args[1:])
	}
	if help, err := adminTokenCmd.parseFlags(fs, args); help || err != nil {
		if help {
			adminTokenCmd.printHelp(c.Stdout, fs)
		}
		return err
	}
	if fs.NArg() == 0 {
		return &usageError{cmd: adminTokenCmd.name, err: fmt.Errorf("admin-token needs a subcommand")}
	}
	return &usageError{cmd: adminTokenCmd.name, err: fmt.Errorf("unknown admin-token subcommand %q", fs.Arg(0))}
}

// reset writes a pending reset into the data dir and prints the new token.
func (c *AdminTokenCommand) reset(args []string) error {
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	fs := flag.NewFlagSet("admin-token reset", flag.ContinueOnError)
	dataDir := fs.String("data-dir", node.Default().DataDir, "the data dir of the node that applies the reset (as given to serve)")
	if help, err := adminTokenResetCmd.parseFlags(fs, args); help || err != nil {
		if help {
			adminTokenResetCmd.printHelp(c.Stdout, fs)
		}
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{cmd: adminTokenResetCmd.name, err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if err := applyEnv(fs, getenv); err != nil {
		return &usageError{cmd: adminTokenResetCmd.name, err: err}
	}
	token, err := operator.WriteReset(*dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, `New admin token (shown once, stored only as a hash):

    %s

Now (re)start the node whose data dir is %s. Once it has a leader it replaces
the cluster's admin token: the new token works on every node, the old one on none.
`, token, *dataDir)
	return nil
}
