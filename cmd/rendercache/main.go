// Command rendercache runs a rendercache node (serve), a local multi-node
// cluster in one process (dev), and operator utilities (keygen).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := NewMain(os.Stdout, os.Stderr).Run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "rendercache:", err)
		}
		os.Exit(2)
	}
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
  rendercache serve [flags]     run one node (no flags: a single-node cluster on 127.0.0.1:8080)
  rendercache dev --nodes N     run an N-node local cluster in one process
  rendercache keygen            print a fresh base64 cluster key
  rendercache version           print the version

Run 'rendercache <command> -h' for a command's flags.
`

// Run executes the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return (&ServeCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, args[1:])
	case "dev":
		return (&DevCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, args[1:])
	case "keygen":
		return (&KeygenCommand{Stdout: m.Stdout}).Run(ctx, args[1:])
	case "version":
		fmt.Fprintln(m.Stdout, "rendercache", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"
