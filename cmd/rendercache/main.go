// Command rendercache runs a rendercache node (serve), a local multi-node
// cluster in one process (dev), operator utilities (keygen, admin-token,
// version), and the API's command-line client (cluster, accounts, keys,
// domains, webhook-tokens, cache, jobs).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := NewMain(os.Stdout, os.Stderr).Run(ctx, os.Args[1:])
	stop()
	os.Exit(report(os.Stderr, err))
}

// Main dispatches subcommands. It exists so that tests can run the CLI
// in-process with their own output streams and environment.
type Main struct {
	Stdout, Stderr io.Writer
	// Getenv defaults to os.Getenv; tests replace it.
	Getenv func(string) string
}

// NewMain returns a Main writing to the given streams.
func NewMain(stdout, stderr io.Writer) *Main { return &Main{Stdout: stdout, Stderr: stderr} }

const summary = `rendercache: a self-hosted cache cluster that pre-renders JavaScript pages for crawlers`

// Run executes the command line args. Help, asked for in any way, goes to
// Stdout and is no error; a wrong command line is a *usageError.
func (m *Main) Run(ctx context.Context, args []string) error {
	if m.Getenv == nil {
		m.Getenv = os.Getenv
	}
	root := m.root()
	if len(args) == 0 {
		printHelp(m.Stderr, root)
		return errUsageShown
	}
	switch args[0] {
	case "-help":
		args = append([]string{"--help"}, args[1:]...)
	case "-version", "--version":
		args = []string{"version"}
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return nil
	}
	var ue *usageError
	if errors.As(err, &ue) || errors.Is(err, errUsageShown) {
		return err
	}
	// Cobra's own refusals of a command line: an unknown command or a
	// bad flag value it found before ours could.
	if strings.HasPrefix(err.Error(), "unknown command ") {
		return &usageError{err: fmt.Errorf("unknown command %q", firstWord(args))}
	}
	if cmd != nil && (strings.HasPrefix(err.Error(), "unknown flag") || strings.HasPrefix(err.Error(), "unknown shorthand flag") || strings.Contains(err.Error(), "flag needs an argument")) {
		return &usageError{cmd: commandName(cmd), err: err}
	}
	return err
}

// firstWord returns the first argument that is not a flag.
func firstWord(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return args[0]
}

// root builds the command tree.
func (m *Main) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "rendercache",
		Short: summary,
		Long: summary + `

A node is 'rendercache serve'; every other command talks to the cluster's
HTTP API through any of its nodes (--endpoint, RENDERCACHE_ENDPOINT).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return &usageError{err: fmt.Errorf("unknown command %q", args[0])}
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{cmd: commandName(cmd), err: err}
	})
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { printHelp(cmd.OutOrStdout(), cmd) })
	root.SetHelpCommand(m.helpCommand(root))

	root.AddGroup(&cobra.Group{ID: "node", Title: "run and operate nodes"}, &cobra.Group{ID: "api", Title: "use the cluster's API (--endpoint, --api-key, --admin-token)"})
	for _, c := range []*cobra.Command{
		(&ServeCommand{Stdout: m.Stdout, Stderr: m.Stderr, Getenv: m.Getenv}).command(),
		(&DevCommand{Stdout: m.Stdout, Stderr: m.Stderr}).command(),
		(&KeygenCommand{Stdout: m.Stdout}).command(),
		(&AdminTokenCommand{Stdout: m.Stdout, Getenv: m.Getenv}).command(),
		(&VersionCommand{Stdout: m.Stdout}).command(),
	} {
		c.GroupID = "node"
		root.AddCommand(c)
	}
	api := &apiSettings{stdout: m.Stdout, stderr: m.Stderr, getenv: m.Getenv}
	for _, c := range api.commands() {
		c.GroupID = "api"
		root.AddCommand(c)
	}
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.GroupID = "node"
			c.Short = "print a shell completion script (bash, zsh, fish, powershell)"
		}
	}
	return root
}

// helpCommand is `rendercache help [command]`: the command's help on
// stdout, or a usage error for a topic that does not exist.
func (m *Main) helpCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "print a command's flags, environment variables and defaults",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return &usageError{err: fmt.Errorf("unknown help topic %q", strings.Join(args, " "))}
			}
			printHelp(m.Stdout, target)
			return nil
		},
	}
}
