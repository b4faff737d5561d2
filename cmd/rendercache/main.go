// Command rendercache runs a rendercache node (serve), a local multi-node
// cluster in one process (dev), and operator utilities (keygen,
// admin-token, version).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := NewMain(os.Stdout, os.Stderr).Run(ctx, os.Args[1:])
	stop()
	os.Exit(report(os.Stderr, err))
}

// Main dispatches subcommands. It exists so that tests can run the CLI
// in-process with their own output streams.
type Main struct {
	Stdout, Stderr io.Writer
}

// NewMain returns a Main writing to the given streams.
func NewMain(stdout, stderr io.Writer) *Main { return &Main{Stdout: stdout, Stderr: stderr} }

const usage = `rendercache: a self-hosted cache cluster that pre-renders JavaScript pages for crawlers

Usage:
  rendercache <command> [flags]

Commands:
  serve               run one node (no flags: a single-node cluster on 127.0.0.1:8080)
  dev --nodes N       run an N-node local cluster in one process
  keygen              print a fresh base64 cluster key
  admin-token reset   replace a lost admin token (run where the node's data dir is)
  version             print the module version and VCS revision
  help [command]      print a command's flags, environment variables and defaults

Run 'rendercache <command> --help' for a command's flags.
`

// Run executes the subcommand named by args[0]. Help, asked for in any
// way, goes to Stdout and is no error; a wrong command line is a
// *usageError.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			if _, ok := m.command(args[1]); !ok {
				return &usageError{err: fmt.Errorf("unknown help topic %q", args[1])}
			}
			return m.Run(ctx, append(args[1:2], "--help"))
		}
		fmt.Fprint(m.Stdout, usage)
		return nil
	case "-version", "--version":
		args = []string{"version"}
	}
	run, ok := m.command(args[0])
	if !ok {
		return &usageError{err: fmt.Errorf("unknown command %q", args[0])}
	}
	return run(ctx, args[1:])
}

// command returns the Run of the subcommand name.
func (m *Main) command(name string) (func(context.Context, []string) error, bool) {
	switch name {
	case "serve":
		return (&ServeCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run, true
	case "dev":
		return (&DevCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run, true
	case "keygen":
		return (&KeygenCommand{Stdout: m.Stdout}).Run, true
	case "admin-token":
		return (&AdminTokenCommand{Stdout: m.Stdout}).Run, true
	case "version":
		return (&VersionCommand{Stdout: m.Stdout}).Run, true
	}
	return nil, false
}
