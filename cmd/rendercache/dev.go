package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/rendercache/rendercache/operator"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/testcluster"
)

// DevCommand runs an N-node cluster in one process for people to poke at:
// the same nodes and fault-injecting transports as the test clusters.
type DevCommand struct {
	Stdout, Stderr io.Writer
}

var devCmd = command{
	name: "dev",
	args: "[--nodes N] [flags]",
	summary: `Run an N-node cluster in one process, sharing one Chromium, for local
experiments: real raft, gossip and Pebble on 127.0.0.1. Origins on private
addresses (localhost) are allowed. Stop it with Ctrl-C.`,
}

// Run starts the cluster, prints every node's addresses and the admin
// token, and stops everything on Ctrl-C.
func (c *DevCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	nodes := fs.Int("nodes", 3, "number of nodes")
	basePort := fs.Int("base-port", 8080, "node i serves its public API on 127.0.0.1:(base-port+i); 0 picks free ports")
	dir := fs.String("data-dir", "", "keep node data here (default: a temp dir removed on exit)")
	voters := fs.Int("voters", 3, "raft voters")
	chrome := fs.String("chrome-path", "", "Chromium binary (default: chromium on PATH); one browser serves every node")
	logLevel := slog.LevelWarn
	fs.TextVar(&logLevel, "log-level", logLevel, "log `level`: debug, info, warn, error")
	if help, err := devCmd.parseFlags(fs, args); help || err != nil {
		if help {
			devCmd.printHelp(c.Stdout, fs)
		}
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{cmd: devCmd.name, err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *nodes < 1 || *nodes > 64 {
		return &usageError{cmd: devCmd.name, err: fmt.Errorf("--nodes must be between 1 and 64")}
	}
	logger := slog.New(slog.NewTextHandler(c.Stderr, &slog.HandlerOptions{Level: logLevel}))
	// Dev origins are usually on localhost, so private addresses are
	// allowed, as testcluster does by default.
	browser, err := render.New(ctx, render.Options{ChromePath: *chrome, Policy: origin.Policy{AllowPrivate: true}, Logger: logger.With("subsystem", "render")})
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer browser.Close()
	opts := testcluster.Options{
		Voters:     *voters,
		AdminToken: operator.NewToken(),
		Dir:        *dir,
		Logger:     logger,
		Renderer:   browser,
	}
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			return fmt.Errorf("dev: %w", err)
		}
	}
	if *basePort > 0 {
		for i := range *nodes {
			opts.HTTPAddrs = append(opts.HTTPAddrs, "127.0.0.1:"+strconv.Itoa(*basePort+i))
		}
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cl, err := testcluster.Start(startCtx, *nodes, opts)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer cl.Close()
	fmt.Fprintf(c.Stdout, "rendercache dev cluster: %d nodes\n\n", *nodes)
	for i := range *nodes {
		n := cl.Node(i)
		fmt.Fprintf(c.Stdout, "  %-4s http://%-21s internal %-21s raft %-21s gossip %s\n", n.Name(), n.HTTPAddr(), n.InternalAddr(), n.RaftAddr(), n.GossipAddr())
	}
	fmt.Fprintf(c.Stdout, "\nAdmin token: %s\n", cl.AdminToken())
	fmt.Fprintf(c.Stdout, "Try: curl -H 'Authorization: Bearer %s' %s/admin/cluster\n\nPress Ctrl-C to stop.\n", cl.AdminToken(), cl.URL(0))
	<-ctx.Done()
	fmt.Fprintln(c.Stdout, "stopping...")
	return nil
}
