package testcluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/netfault"
	"github.com/rendercache/rendercache/node"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/render"
)

// Options configures a test cluster. The zero value gives 3 voters, fast
// timings and a quiet logger.
type Options struct {
	// Voters is the raft voter count; default 3.
	Voters int
	// DeadNodeTimeout is how long a killed node stays in the raft
	// configuration; default 1 minute so that kill-and-restart tests keep
	// their voters. Promotion tests lower it.
	DeadNodeTimeout time.Duration
	// AdminToken defaults to DefaultAdminToken.
	AdminToken string
	// Plans defaults to plan.Defaults().
	Plans plan.Catalog
	// Dir holds the nodes' data dirs; default a new temp dir removed by
	// Close.
	Dir string
	// SMTPAddr is every node's invite mail relay (--smtp-addr); empty
	// sends no mail.
	SMTPAddr string
	// Logger defaults to a discarding logger, or to stderr at debug level
	// when RENDERCACHE_TEST_LOG is set.
	Logger *slog.Logger
	// HTTPAddrs optionally fixes node i's public address (dev mode).
	HTTPAddrs []string
	// TrailingLogs, when set, is how many raft entries survive a snapshot,
	// so tests can force followers to catch up from a snapshot.
	TrailingLogs uint64
	// StrictOrigins refuses private and loopback origins as production
	// does; by default test clusters allow them, since test origins are
	// httptest servers on 127.0.0.1.
	StrictOrigins bool
	// ProductionTimings uses the raft and gossip timings of a real
	// deployment instead of the fast test ones (for failover benchmarks).
	ProductionTimings bool
	// Renderer renders pages for every node, so a test package runs one
	// Chromium (a *render.Pool) however many nodes it starts. Nil: the
	// nodes answer every render with a 503 naming this option, for tests
	// that never render.
	Renderer page.Renderer
	// RenderTimeout is the nodes' default render timeout; default 20s.
	RenderTimeout time.Duration
	// DNSResolver is every node's --dns-resolver (host:port), such as a
	// dnstest server's; empty asks the system's nameservers.
	DNSResolver string

	// wrapPublic wraps node i's public handler; New sets it to check
	// every request and answer against the OpenAPI contract.
	wrapPublic func(ownAddr string) func(http.Handler) http.Handler
}

// noRenderer is the renderer of clusters that were given none.
type noRenderer struct{}

func (noRenderer) Render(context.Context, render.Request) (render.Result, error) {
	return render.Result{}, errkind.New(errkind.Unavailable, "this test cluster has no renderer: set testcluster.Options.Renderer")
}

// DefaultAdminToken is the operator token of test clusters.
const DefaultAdminToken = "rk_admin_testclustertoken000000000000000"

// Cluster is a set of in-process nodes. Its methods are safe for concurrent
// use, except that a node must not be stopped and restarted concurrently.
type Cluster struct {
	opts   Options
	key    []byte
	faults *netfault.Injector
	ownDir bool

	mu    sync.Mutex
	specs []spec
	nodes []*node.Node // nil while a node is down
}

type spec struct {
	name                                string
	dir                                 string
	httpAddr, intAddr, raftAddr, gossip string
}

// Start launches n nodes: the first bootstraps, the rest join it. It
// returns when every node is a member of the raft configuration.
func Start(ctx context.Context, n int, opts Options) (*Cluster, error) {
	if n < 1 {
		return nil, errors.New("testcluster: need at least one node")
	}
	if opts.Voters == 0 {
		opts.Voters = 3
	}
	if opts.DeadNodeTimeout == 0 {
		opts.DeadNodeTimeout = time.Minute
	}
	if opts.AdminToken == "" {
		opts.AdminToken = DefaultAdminToken
	}
	if opts.Plans == nil {
		opts.Plans = plan.Defaults()
	}
	if opts.Logger == nil {
		opts.Logger = defaultLogger()
	}
	c := &Cluster{opts: opts, faults: netfault.New(), key: make([]byte, node.ClusterKeySize)}
	rand.Read(c.key)
	if c.opts.Dir == "" {
		dir, err := os.MkdirTemp("", "rendercache-testcluster-")
		if err != nil {
			return nil, fmt.Errorf("testcluster: %w", err)
		}
		c.opts.Dir, c.ownDir = dir, true
	}
	for i := 0; i < n; i++ {
		if _, err := c.addSpec(i); err != nil {
			c.Close()
			return nil, err
		}
	}
	c.nodes = make([]*node.Node, n)
	for i := 0; i < n; i++ {
		if err := c.firstStart(ctx, i); err != nil {
			c.Close()
			return nil, err
		}
		if i == 0 {
			if _, err := c.WaitLeader(ctx); err != nil {
				c.Close()
				return nil, err
			}
		}
	}
	if err := c.WaitServers(ctx, n); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) addSpec(i int) (spec, error) {
	s := spec{name: "n" + strconv.Itoa(i+1)}
	s.dir = filepath.Join(c.opts.Dir, s.name)
	c.specs = append(c.specs, s)
	return s, c.pickAddrs(i)
}

// pickAddrs chooses node i's four listener addresses.
func (c *Cluster) pickAddrs(i int) error {
	addrs := make([]string, 4)
	for j := range addrs {
		var err error
		if addrs[j], err = FreeAddr(j == 3); err != nil {
			return err
		}
	}
	if i < len(c.opts.HTTPAddrs) && c.opts.HTTPAddrs[i] != "" {
		addrs[0] = c.opts.HTTPAddrs[i]
	}
	s := &c.specs[i]
	s.httpAddr, s.intAddr, s.raftAddr, s.gossip = addrs[0], addrs[1], addrs[2], addrs[3]
	c.faults.Register(s.name, addrs...)
	return nil
}

// FreeAddr finds a loopback port free for TCP (and UDP when udp is set,
// which gossip needs on the same port). Ports are picked at random below
// the kernel's ephemeral range: every outgoing connection (and every
// listener on port 0) takes ephemeral ports, so a port picked there and
// bound a moment later is often gone, and restarts need the same ports
// again. A port is never handed out twice in one process: the probe
// listener is closed at once, so without that two picks made before
// either node binds could collide.
func FreeAddr(udp bool) (string, error) {
	lo, hi := pickRange()
	for range 500 {
		port := lo + mrand.IntN(hi-lo)
		if _, taken := handedOut.LoadOrStore(port, true); taken {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		if udp {
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				ln.Close()
				continue
			}
			pc.Close()
		}
		ln.Close()
		return addr, nil
	}
	return "", errors.New("testcluster: no free port pair")
}

// handedOut holds every port FreeAddr has returned (or found busy).
var handedOut sync.Map

// pickRange returns the ports to pick from: below the ephemeral range
// when there is room, else above it.
func pickRange() (int, int) {
	lo, hi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		fmt.Sscanf(string(b), "%d %d", &lo, &hi)
	}
	if lo-10000 >= 5000 {
		return 10000, lo
	}
	if 65535-hi >= 2000 {
		return hi + 1, 65536
	}
	return 1024, 65536
}

func (c *Cluster) config(i int, bootstrap bool) node.Config {
	s := c.specs[i]
	cfg := node.Default()
	cfg.Name = s.name
	cfg.DataDir = s.dir
	cfg.HTTPAddr, cfg.InternalAddr, cfg.RaftAddr, cfg.GossipAddr = s.httpAddr, s.intAddr, s.raftAddr, s.gossip
	cfg.ClusterKey = c.key
	cfg.AdminToken = c.opts.AdminToken
	cfg.Plans = c.opts.Plans
	cfg.Voters = c.opts.Voters
	cfg.DeadNodeTimeout = c.opts.DeadNodeTimeout
	cfg.Fast = !c.opts.ProductionTimings
	cfg.TrailingLogs = c.opts.TrailingLogs
	cfg.AllowPrivateOrigins = !c.opts.StrictOrigins
	cfg.KeyTouchInterval = 200 * time.Millisecond
	cfg.Logger = c.opts.Logger
	cfg.Faults = c.faults
	cfg.Renderer = c.opts.Renderer
	cfg.SMTPAddr = c.opts.SMTPAddr
	cfg.DNSResolver = c.opts.DNSResolver
	if cfg.Renderer == nil {
		cfg.Renderer = noRenderer{}
	}
	cfg.CacheBytes = 16 << 20
	cfg.UsageReportInterval = 200 * time.Millisecond
	cfg.L2Bytes = 64 << 20
	if c.opts.RenderTimeout > 0 {
		cfg.RenderTimeout = c.opts.RenderTimeout
	}
	if c.opts.wrapPublic != nil {
		cfg.WrapPublic = c.opts.wrapPublic(s.httpAddr)
	}
	if !bootstrap {
		for j, o := range c.specs {
			if j != i {
				cfg.Join = append(cfg.Join, o.gossip)
			}
		}
	}
	return cfg
}

// firstStart starts node i for the first time. Another process may take
// one of its picked ports between the pick and the bind; then the node
// gets fresh ports and an empty data dir and tries again.
func (c *Cluster) firstStart(ctx context.Context, i int) error {
	for attempt := 0; ; attempt++ {
		err := c.start(ctx, i, i == 0)
		if err == nil || attempt == 4 || !strings.Contains(err.Error(), "address already in use") {
			return err
		}
		c.opts.Logger.Warn("testcluster: a picked port was taken; picking new ones", "node", c.specs[i].name, "err", err)
		if err := os.RemoveAll(c.specs[i].dir); err != nil {
			return err
		}
		if err := c.pickAddrs(i); err != nil {
			return err
		}
	}
}

func (c *Cluster) start(ctx context.Context, i int, bootstrap bool) error {
	n, err := node.Start(ctx, c.config(i, bootstrap))
	if err != nil {
		return fmt.Errorf("testcluster: start %s: %w", c.specs[i].name, err)
	}
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
	return nil
}

// Size returns the number of node slots, up or down.
func (c *Cluster) Size() int { return len(c.specs) }

// Key returns the cluster key, so extra processes can join.
func (c *Cluster) Key() []byte { return c.key }

// AdminToken returns the operator token.
func (c *Cluster) AdminToken() string { return c.opts.AdminToken }

// Node returns node i (0-based), or nil while it is down.
func (c *Cluster) Node(i int) *node.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// URL returns the base URL of node i's public API (valid while down too).
func (c *Cluster) URL(i int) string { return "http://" + c.specs[i].httpAddr }

// Name returns node i's name ("n1" for 0).
func (c *Cluster) Name(i int) string { return c.specs[i].name }

// Index returns the index of the node named name, or -1.
func (c *Cluster) Index(name string) int {
	for i, s := range c.specs {
		if s.name == name {
			return i
		}
	}
	return -1
}

// Leader returns the index of the node that leads right now, or -1.
func (c *Cluster) Leader() int {
	for i := range c.specs {
		if n := c.Node(i); n != nil && n.Raft().IsLeader() {
			return i
		}
	}
	return -1
}

// Kill stops node i abruptly: no leave, no leadership transfer.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if n != nil {
		n.Kill()
	}
}

// Stop stops node i gracefully: it transfers leadership and leaves.
func (c *Cluster) Stop(ctx context.Context, i int) error {
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if n == nil {
		return nil
	}
	return n.Stop(ctx)
}

// Restart starts node i again from its data dir, on the same addresses.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	if c.Node(i) != nil {
		return fmt.Errorf("testcluster: %s is running", c.specs[i].name)
	}
	return c.start(ctx, i, false)
}

// Partition splits the nodes (by index) into groups that cannot reach each
// other over raft, gossip or internal HTTP. Nodes in no group are isolated.
func (c *Cluster) Partition(groups ...[]int) {
	named := make([][]string, len(groups))
	for g, idx := range groups {
		for _, i := range idx {
			named[g] = append(named[g], c.specs[i].name)
		}
	}
	c.faults.Partition(named...)
}

// Heal removes every partition.
func (c *Cluster) Heal() { c.faults.Heal() }

// Close kills every node and removes the data dirs the cluster created.
func (c *Cluster) Close() {
	var wg sync.WaitGroup
	for i := range c.specs {
		if c.nodes == nil || i >= len(c.nodes) {
			break
		}
		wg.Add(1)
		go func() { defer wg.Done(); c.Kill(i) }()
	}
	wg.Wait()
	if c.ownDir {
		os.RemoveAll(c.opts.Dir)
	}
}

func defaultLogger() *slog.Logger {
	lvl := os.Getenv("RENDERCACHE_TEST_LOG")
	if lvl == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(lvl)); err != nil {
		l = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
