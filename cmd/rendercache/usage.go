package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rendercache/rendercache/client"
)

// usageError is a command line that cannot run: the command prints it on
// one line with a hint and exits with status 2, as Go tools do.
type usageError struct {
	cmd string // "serve", "admin-token reset", or "" for the top level
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// hint is what the user should run to see the command line's usage.
func (e *usageError) hint() string {
	if e.cmd == "" {
		return "rendercache --help"
	}
	return "rendercache " + e.cmd + " --help"
}

// errUsageShown means the usage was printed to stderr already (no
// command at all): exit 2 without another line.
var errUsageShown = errors.New("usage shown")

// errJobsFailed means a --wait saw jobs fail; they were listed already.
var errJobsFailed = errors.New("some jobs failed")

// Exit statuses. 0, 1 and 2 are as Go tools use them; 3 and 4 tell a
// script whether to fix its credentials or retry later.
const (
	exitOK          = 0
	exitError       = 1 // the command ran and failed: the API refused the request (400, 404, 409, 413, 429) or a job failed
	exitUsage       = 2 // the command line is wrong
	exitAuth        = 3 // the credentials were refused: 401 or 403
	exitUnavailable = 4 // the cluster could not answer: a 5xx, or no endpoint reachable
)

// report prints err on stderr as one line and returns the exit status.
func report(stderr io.Writer, err error) int {
	var (
		ue   *usageError
		ae   *client.Error
		oe   *net.OpError
		urle *url.Error
	)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsageShown):
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "rendercache: %v; run '%s'\n", ue.err, ue.hint())
		return exitUsage
	case errors.Is(err, errJobsFailed):
		return exitError
	case errors.As(err, &ae):
		fmt.Fprintf(stderr, "rendercache: %v\n", err)
		switch {
		case ae.Status == 401 || ae.Status == 403:
			return exitAuth
		case ae.Status >= 500:
			return exitUnavailable
		}
		return exitError
	case errors.As(err, &oe), errors.As(err, &urle):
		fmt.Fprintf(stderr, "rendercache: %v\n", err)
		return exitUnavailable
	}
	fmt.Fprintf(stderr, "rendercache: %v\n", err)
	return exitError
}

// commandName is cmd's path after "rendercache": "admin-token reset".
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), "rendercache"), " ")
}

// noArgs refuses positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{cmd: commandName(cmd), err: fmt.Errorf("unexpected arguments %q", args)}
	}
	return nil
}

// exactArgs wants n arguments, named in cmd.Use.
func exactArgs(n int) cobra.PositionalArgs {
	return rangeArgs(n, n)
}

// rangeArgs wants between lo and hi arguments (hi < 0: any number).
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo {
			return &usageError{cmd: commandName(cmd), err: fmt.Errorf("%s needs %s", commandName(cmd), strings.TrimPrefix(cmd.Use, cmd.Name()+" "))}
		}
		if hi >= 0 && len(args) > hi {
			return &usageError{cmd: commandName(cmd), err: fmt.Errorf("unexpected arguments %q", args[hi:])}
		}
		return nil
	}
}

// group returns a command that only holds subcommands: run alone or with
// an unknown subcommand, it is a usage error.
func group(name, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   name + " <command>",
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{cmd: name, err: fmt.Errorf("%s needs a subcommand", name)}
			}
			return &usageError{cmd: name, err: fmt.Errorf("unknown %s subcommand %q", name, args[0])}
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// envAnnotation marks commands whose flags also read RENDERCACHE_*
// variables.
const envAnnotation = "env"

// printHelp writes cmd's usage, its subcommands and every flag in its
// --flag form, with its environment variable (for commands that read
// them) and default.
func printHelp(w io.Writer, cmd *cobra.Command) {
	use := strings.TrimPrefix(cmd.Use, cmd.Name())
	if !cmd.HasParent() {
		use = " <command> [flags]"
	} else if use == "" {
		use = " [flags]"
	}
	fmt.Fprintf(w, "Usage: %s%s\n\n", cmd.CommandPath(), use)
	long := cmd.Long
	if long == "" {
		long = cmd.Short
	}
	fmt.Fprintf(w, "%s\n", strings.TrimSpace(long))
	if cmd.HasAvailableSubCommands() {
		printCommands(w, cmd)
	}
	if cmd.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(cmd.Example, "\n"))
	}
	env := cmd.Annotations[envAnnotation] == "true"
	if local := visibleFlags(cmd.LocalNonPersistentFlags()); len(local) > 0 {
		if env {
			fmt.Fprintf(w, "\nFlags (each also read from its environment variable; a flag wins):\n")
		} else {
			fmt.Fprintf(w, "\nFlags:\n")
		}
		printFlags(w, local, env)
	}
	inherited := visibleFlags(cmd.InheritedFlags())
	inherited = append(inherited, visibleFlags(cmd.PersistentFlags())...)
	if len(inherited) > 0 {
		fmt.Fprintf(w, "\nConnection and output flags (each also read from its environment variable; a flag wins):\n")
		printFlags(w, inherited, true)
	}
	if !cmd.HasParent() {
		fmt.Fprintf(w, "\nRun 'rendercache <command> --help' for a command's flags. Exit status: 0 ok,\n1 the request or a job failed, 2 usage error, 3 credentials refused (401, 403),\n4 the cluster could not answer (5xx, no endpoint reachable).\n")
	} else if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", cmd.CommandPath())
	}
}

// printCommands lists cmd's subcommands, by group at the top level.
func printCommands(w io.Writer, cmd *cobra.Command) {
	list := func(title, group string) {
		var lines []string
		for _, c := range cmd.Commands() {
			if !c.IsAvailableCommand() && c.Name() != "help" || c.GroupID != group {
				continue
			}
			lines = append(lines, fmt.Sprintf("  %-20s%s", c.Name(), c.Short))
		}
		if len(lines) > 0 {
			fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Join(lines, "\n"))
		}
	}
	if len(cmd.Groups()) == 0 {
		list("Commands:", "")
		return
	}
	for _, g := range cmd.Groups() {
		list("Commands: "+g.Title, g.ID)
	}
	list("Commands: other", "")
}

// visibleFlags returns the flags of fs worth listing: all but --help.
func visibleFlags(fs *pflag.FlagSet) []*pflag.Flag {
	var out []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && !f.Hidden {
			out = append(out, f)
		}
	})
	return out
}

// printFlags writes flags in their --flag form with env and default.
func printFlags(w io.Writer, flags []*pflag.Flag, env bool) {
	for _, f := range flags {
		kind, usage := pflag.UnquoteUsage(f)
		usage, def := splitDefault(usage, f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if kind != "" && kind != "bool" {
			fmt.Fprintf(w, " %s", kind)
		}
		if f.Shorthand != "" {
			fmt.Fprintf(w, "  (or -%s)", f.Shorthand)
		}
		fmt.Fprintf(w, "\n        %s\n", usage)
		if env {
			fmt.Fprintf(w, "        (env %s; default %s)\n", envName(f.Name), def)
		} else {
			fmt.Fprintf(w, "        (default %s)\n", def)
		}
	}
}

// splitDefault separates a "(default: ...)" note from a flag's usage, or
// describes the flag's default value.
func splitDefault(usage string, f *pflag.Flag) (string, string) {
	if i := strings.LastIndex(usage, " (default: "); i >= 0 && strings.HasSuffix(usage, ")") {
		return usage[:i], usage[i+len(" (default: ") : len(usage)-1]
	}
	def := f.DefValue
	switch {
	case def == "" || def == "[]":
		return usage, "none"
	case strings.HasSuffix(f.Name, "-bytes") || strings.HasSuffix(f.Name, "-limit"):
		if v, err := strconv.ParseInt(def, 10, 64); err == nil && humanBytes(v) != "" {
			return usage, humanBytes(v) + " (" + def + " bytes)"
		}
	}
	return usage, def
}

// humanBytes returns "N MiB" or "N GiB" for a whole number of either,
// else "".
func humanBytes(v int64) string {
	switch {
	case v >= 1<<30 && v%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", v>>30)
	case v >= 1<<20 && v%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", v>>20)
	}
	return ""
}

// envName is the environment variable of a flag: --cluster-key is
// RENDERCACHE_CLUSTER_KEY.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
