package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
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

// Exit statuses, as Go tools use them.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the command line is wrong
)

// report prints err on stderr as one line and returns the exit status.
func report(stderr io.Writer, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitUsage // the usage went to stderr already
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "rendercache: %v; run '%s'\n", ue.err, ue.hint())
		return exitUsage
	}
	fmt.Fprintf(stderr, "rendercache: %v\n", err)
	return exitError
}

// command describes a subcommand for its --help.
type command struct {
	name     string // as typed after rendercache: "serve", "admin-token reset"
	args     string // the synopsis after the name: "[flags]"
	summary  string // what it does, a paragraph
	env      bool   // its flags also read RENDERCACHE_* variables
	examples string
}

// parseFlags parses args into fs without printing anything. It reports
// help when -h, -help or --help was given, and wraps every other error as
// a usage error of cmd.
func (c command) parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return true, nil
	case err != nil:
		return false, &usageError{cmd: c.name, err: err}
	}
	return false, nil
}

// printHelp writes the command's usage and every flag of fs in its --flag
// form, with its environment variable and default.
func (c command) printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: rendercache %s %s\n\n%s\n", c.name, c.args, c.summary)
	if c.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s", c.examples)
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	if c.env {
		fmt.Fprintf(w, "\nFlags (each also read from its environment variable; a flag wins):\n")
	} else {
		fmt.Fprintf(w, "\nFlags:\n")
	}
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		usage, def := splitDefault(usage, f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if kind != "" {
			fmt.Fprintf(w, " %s", kind)
		}
		fmt.Fprintf(w, "\n        %s\n", usage)
		if c.env {
			fmt.Fprintf(w, "        (env %s; default %s)\n", envName(f.Name), def)
		} else {
			fmt.Fprintf(w, "        (default %s)\n", def)
		}
	})
}

// splitDefault separates a "(default: ...)" note from a flag's usage, or
// describes the flag's default value.
func splitDefault(usage string, f *flag.Flag) (string, string) {
	if i := strings.LastIndex(usage, " (default: "); i >= 0 && strings.HasSuffix(usage, ")") {
		return usage[:i], usage[i+len(" (default: ") : len(usage)-1]
	}
	def := f.DefValue
	switch {
	case def == "":
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
