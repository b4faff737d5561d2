package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/operator"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/testcluster"
)

// DevCommand runs an N-node cluster in one process for people to poke at:
// the same nodes and fault-injecting transports as the test clusters.
type DevCommand struct {
	Stdout, Stderr io.Writer

	nodes, basePort, voters int
	dir, chrome             string
	logLevel                slog.Level
}

// command is `rendercache dev`.
func (c *DevCommand) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "run an N-node local cluster in one process (--nodes N)",
		Long: `Run an N-node cluster in one process, sharing one Chromium, for local
experiments: real raft, gossip and Pebble on 127.0.0.1. Origins on private
addresses (localhost) are allowed. Stop it with Ctrl-C.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.Run(cmd.Context()) },
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.IntVar(&c.nodes, "nodes", 3, "number of nodes")
	fs.IntVar(&c.basePort, "base-port", 8080, "node i serves its public API on 127.0.0.1:(base-port+i); 0 picks free ports")
	fs.StringVar(&c.dir, "data-dir", "", "keep node data here (default: a temp dir removed on exit)")
	fs.IntVar(&c.voters, "voters", 3, "raft voters")
	fs.StringVar(&c.chrome, "chrome-path", "", "Chromium binary (default: chromium on PATH); one browser serves every node")
	c.logLevel = slog.LevelWarn
	fs.TextVar(&c.logLevel, "log-level", c.logLevel, "log `level`: debug, info, warn, error (default: warn)")
	return cmd
}

// Run starts the cluster, prints every node's addresses and the admin
// token, and stops everything on Ctrl-C.
func (c *DevCommand) Run(ctx context.Context) error {
	if c.nodes < 1 || c.nodes > 64 {
		return &usageError{cmd: "dev", err: fmt.Errorf("--nodes must be between 1 and 64")}
	}
	logger := slog.New(slog.NewTextHandler(c.Stderr, &slog.HandlerOptions{Level: c.logLevel}))
	// Dev origins are usually on localhost, so private addresses are
	// allowed, as testcluster does by default.
	browser, err := render.New(ctx, render.Options{ChromePath: c.chrome, Policy: origin.Policy{AllowPrivate: true}, Logger: logger.With("subsystem", "render")})
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer browser.Close()
	opts := testcluster.Options{
		Voters:     c.voters,
		AdminToken: operator.NewToken(),
		Dir:        c.dir,
		Logger:     logger,
		Renderer:   browser,
	}
	if c.dir != "" {
		if err := os.MkdirAll(c.dir, 0o700); err != nil {
			return fmt.Errorf("dev: %w", err)
		}
	}
	if c.basePort > 0 {
		for i := range c.nodes {
			opts.HTTPAddrs = append(opts.HTTPAddrs, "127.0.0.1:"+strconv.Itoa(c.basePort+i))
		}
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cl, err := testcluster.Start(startCtx, c.nodes, opts)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer cl.Close()
	fmt.Fprintf(c.Stdout, "rendercache dev cluster: %d nodes\n\n", c.nodes)
	for i := range c.nodes {
		n := cl.Node(i)
		fmt.Fprintf(c.Stdout, "  %-4s http://%-21s internal %-21s raft %-21s gossip %s\n", n.Name(), n.HTTPAddr(), n.InternalAddr(), n.RaftAddr(), n.GossipAddr())
	}
	fmt.Fprintf(c.Stdout, "\nAdmin token: %s\n", cl.AdminToken())
	endpoints := make([]string, c.nodes)
	for i := range endpoints {
		endpoints[i] = cl.URL(i)
	}
	fmt.Fprintf(c.Stdout, "Try: RENDERCACHE_ADMIN_TOKEN=%s rendercache cluster members --endpoint %s\n\nPress Ctrl-C to stop.\n", cl.AdminToken(), strings.Join(endpoints, ","))
	<-ctx.Done()
	fmt.Fprintln(c.Stdout, "stopping...")
	return nil
}
