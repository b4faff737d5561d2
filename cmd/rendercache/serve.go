package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rendercache/rendercache/internal/seal"
	"github.com/rendercache/rendercache/node"
	"github.com/rendercache/rendercache/origin"
)

// ServeCommand runs one node until SIGINT or SIGTERM, then leaves the
// cluster gracefully.
type ServeCommand struct {
	Stdout, Stderr io.Writer
	// Getenv defaults to os.Getenv; tests replace it.
	Getenv func(string) string

	// What the flags set; see defineFlags.
	cfg           node.Config
	join          listFlag
	cidrs         listFlag
	clusterKey    string
	encryptionKey string
	configPath    string
	logLevel      slog.Level
}

// command is `rendercache serve`.
func (c *ServeCommand) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run one node (no flags: a single-node cluster on 127.0.0.1:8080)",
		Long: `Run one node until SIGINT or SIGTERM, then leave the cluster gracefully.
With no flags: a single-node cluster on 127.0.0.1:8080 with its state in ./data.
A node with an empty data dir and no --join founds a cluster and prints its
admin token once; the others join it with --join and the same --cluster-key.`,
		Example: `  rendercache serve
  rendercache serve --allow-private-origins        # origins on localhost (development)
  RENDERCACHE_CLUSTER_KEY=... rendercache serve --name n2 --data-dir /var/lib/rc2 --join 10.0.0.1:8083`,
		Annotations: map[string]string{envAnnotation: "true"},
		Args:        noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, level, err := c.config(cmd.Flags())
			if err != nil {
				return err
			}
			return c.Run(cmd.Context(), cfg, level)
		},
	}
	c.defineFlags(cmd.Flags())
	return cmd
}

// Run starts the node with cfg and blocks until ctx is cancelled.
func (c *ServeCommand) Run(ctx context.Context, cfg node.Config, logLevel slog.Level) error {
	cfg.Logger = slog.New(slog.NewTextHandler(c.Stderr, &slog.HandlerOptions{Level: logLevel}))
	warnOriginPolicy(cfg.Logger, cfg)
	cfg.OnAdminToken = func(token string) {
		fmt.Fprintf(c.Stdout, "\nAdmin token (shown once, stored only as a hash):\n\n    %s\n\nUse it as: export RENDERCACHE_ADMIN_TOKEN=%s\n           rendercache cluster status --endpoint http://%s\n\n", token, token, cfg.HTTPAddr)
	}

	// Start the node; it bootstraps when the data dir is new and there is
	// nobody to join.
	n, err := node.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "rendercache node %s serving on http://%s (internal %s, raft %s, gossip %s)\n",
		n.Name(), n.HTTPAddr(), n.InternalAddr(), n.RaftAddr(), n.GossipAddr())

	// Wait for a signal, then leave gracefully with a bound.
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return n.Stop(stopCtx)
}

// warnOriginPolicy says at start when origins may reach private
// networks, naming the flag that allows it.
func warnOriginPolicy(log *slog.Logger, cfg node.Config) {
	if cfg.AllowPrivateOrigins {
		log.Warn("private origins are allowed: domains may use origins on private, loopback and link-local addresses, and renders may reach them; for development only", "flag", "--allow-private-origins")
	}
	if len(cfg.AllowOriginCIDRs) > 0 {
		nets := make([]string, len(cfg.AllowOriginCIDRs))
		for i, p := range cfg.AllowOriginCIDRs {
			nets[i] = p.String()
		}
		log.Warn("origins may use private addresses in these networks", "flag", "--allow-origin-cidrs", "cidrs", strings.Join(nets, ","))
	}
}

// defineFlags defines serve's flags on fs, bound to c.
func (c *ServeCommand) defineFlags(fs *pflag.FlagSet) {
	c.cfg = node.Default()
	c.join, c.cidrs, c.clusterKey, c.configPath, c.encryptionKey = nil, nil, "", "", ""
	c.logLevel = slog.LevelInfo
	cfg := &c.cfg
	fs.SortFlags = false
	fs.StringVar(&cfg.Name, "name", "", "unique node name (default: the host name)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for Pebble state (state/), raft snapshots, peers.json and a generated cluster.key")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "public API listen address")
	fs.StringVar(&cfg.InternalAddr, "internal-addr", cfg.InternalAddr, "node-to-node listen address (authenticated with the cluster key)")
	fs.StringVar(&cfg.RaftAddr, "raft-addr", cfg.RaftAddr, "raft TCP listen address")
	fs.StringVar(&cfg.GossipAddr, "gossip-addr", cfg.GossipAddr, "memberlist TCP+UDP listen address")
	fs.Var(&c.join, "join", "gossip `addresses` of existing members, comma-separated or repeated; retried in the background")
	fs.IntVar(&cfg.Voters, "voters", cfg.Voters, "raft voters to keep; further nodes join as non-voters")
	fs.StringVar(&c.clusterKey, "cluster-key", "", "base64 32-byte key (rendercache keygen) that encrypts gossip and authenticates node-to-node RPC; required to join (default: generated into <data-dir>/cluster.key on first bootstrap)")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "operator token for /admin; a lost one is replaced with 'rendercache admin-token reset' (default: generated on first bootstrap, printed once, stored hashed)")
	fs.StringVar(&c.configPath, "config", "", "YAML (or JSON) `file` with plan definitions")
	fs.DurationVar(&cfg.DeadNodeTimeout, "dead-node-timeout", cfg.DeadNodeTimeout, "how long a failed node stays in the raft configuration")
	fs.BoolVar(&cfg.AllowPrivateOrigins, "allow-private-origins", false, "allow origins on private, loopback and link-local addresses (development only)")
	fs.Var(&c.cidrs, "allow-origin-cidrs", "`networks` (CIDRs, comma-separated) whose private addresses origins may use (self-hosted origins)")
	fs.StringVar(&cfg.ChromePath, "chrome-path", "", "Chromium `binary` (default: chromium on PATH)")
	fs.IntVar(&cfg.RenderConcurrency, "render-concurrency", 0, "concurrent renders on this node (default: the number of CPUs)")
	fs.DurationVar(&cfg.RenderTimeout, "render-timeout", cfg.RenderTimeout, "cap on one render; a timed-out render is never cached")
	fs.Int64Var(&cfg.RenderMemoryLimit, "render-memory-limit", cfg.RenderMemoryLimit, "bytes of memory Chromium may use before it is replaced between renders")
	fs.Int64Var(&cfg.CacheBytes, "cache-bytes", cfg.CacheBytes, "bytes of rendered pages this node keeps in memory")
	fs.Int64Var(&cfg.L2Bytes, "l2-bytes", cfg.L2Bytes, "bytes of rendered pages this node keeps on disk (L2)")
	fs.Int64Var(&cfg.HotBytes, "hot-bytes", cfg.HotBytes, "bytes of ready-to-write answers (decoded, compressed) this node keeps in front of the cache; a hit is served from here")
	fs.StringVar(&cfg.CDNDomain, "cdn-domain", cfg.CDNDomain, "asset zones are served at <zone>.<cdn-domain>")
	fs.Int64Var(&cfg.AssetMaxBytes, "asset-max-bytes", cfg.AssetMaxBytes, "largest zone asset that is cached; larger ones stream from the origin uncached")
	fs.StringVar(&cfg.TenantDomain, "tenant-domain", cfg.TenantDomain, "tenants are served at <slug>.<tenant-domain> (their proxyBase)")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "base `URL` of the links the API hands out, such as cache-refresh webhook URLs (default: http://<http-addr>)")
	fs.StringVar(&c.encryptionKey, "encryption-key", "", "base64 32-byte data key (rendercache keygen) sealing tenant webhook secrets and CMS tokens; the same on every node (default: derived from the cluster key with HKDF)")
	fs.StringVar(&cfg.SMTPAddr, "smtp-addr", "", "SMTP relay `host:port` for tenant invite emails (default: none; invites answer emailSent false)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", "", "sender `address` of invite emails (default: rendercache@<tenant-domain>)")
	fs.StringVar(&cfg.DNSResolver, "dns-resolver", "", "DNS server `host:port` that verifies tenants' custom domains (their TXT records) (default: the system's nameservers from /etc/resolv.conf)")
	fs.TextVar(&c.logLevel, "log-level", c.logLevel, "log `level`: debug, info, warn, error (default: info)")
}

// config completes the node config once fs is parsed: RENDERCACHE_*
// variables for the flags not given, then the settings derived from them.
func (c *ServeCommand) config(fs *pflag.FlagSet) (node.Config, slog.Level, error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if err := applyEnv(fs, getenv); err != nil {
		return c.cfg, 0, &usageError{cmd: "serve", err: err}
	}
	cfg := c.cfg
	cfg.Join = c.join
	var err error
	if cfg.AllowOriginCIDRs, err = origin.ParseCIDRs(c.cidrs); err != nil {
		return cfg, 0, fmt.Errorf("serve: --allow-origin-cidrs: %w", err)
	}
	if cfg.Name == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "rendercache"
		}
		cfg.Name = h
	}
	if cfg.Plans, err = loadPlans(c.configPath); err != nil {
		return cfg, 0, err
	}
	if cfg.ClusterKey, err = resolveClusterKey(c.clusterKey, cfg.DataDir, len(cfg.Join) > 0); err != nil {
		return cfg, 0, err
	}
	if c.encryptionKey != "" {
		if cfg.EncryptionKey, err = seal.ParseKey(c.encryptionKey); err != nil {
			return cfg, 0, fmt.Errorf("serve: --encryption-key: %w", err)
		}
	}
	return cfg, c.logLevel, nil
}

// parse parses args as serve's command line outside cobra (tests use it).
func (c *ServeCommand) parse(args []string) (node.Config, slog.Level, error) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.defineFlags(fs)
	if err := fs.Parse(args); err != nil {
		return c.cfg, 0, &usageError{cmd: "serve", err: err}
	}
	if fs.NArg() > 0 {
		return c.cfg, 0, &usageError{cmd: "serve", err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	return c.config(fs)
}

// resolveClusterKey returns the key from the flag, else from
// <data-dir>/cluster.key, else, for a node founding a cluster, a new key
// written there (0600) so that restarts keep it.
func resolveClusterKey(flagValue, dataDir string, joining bool) ([]byte, error) {
	if flagValue != "" {
		return node.ParseClusterKey(strings.TrimSpace(flagValue))
	}
	path := filepath.Join(dataDir, "cluster.key")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		k, err := node.ParseClusterKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("cluster key: %w", err)
	case joining:
		return nil, errors.New("--cluster-key (or RENDERCACHE_CLUSTER_KEY) is required to join a cluster: use the key of the existing nodes")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	key := newClusterKey()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	return node.ParseClusterKey(key)
}
