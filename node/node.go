package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/cache"
	"github.com/rendercache/rendercache/cachectl"
	"github.com/rendercache/rendercache/cluster"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/peer"
	"github.com/rendercache/rendercache/jobs"
	"github.com/rendercache/rendercache/operator"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/pagestore"
	"github.com/rendercache/rendercache/ratelimit"
	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/storage"
	"github.com/rendercache/rendercache/tenant"
	"github.com/rendercache/rendercache/tenantproxy"
	"github.com/rendercache/rendercache/tenanttraffic"
	"github.com/rendercache/rendercache/usage"
	"github.com/rendercache/rendercache/webhook"
	"github.com/rendercache/rendercache/zone"
)

// Node is one running rendercache node. Its methods are safe for concurrent
// use.
type Node struct {
	cfg Config
	log *slog.Logger

	db       *storage.DB
	raft     *consensus.Raft
	members  *cluster.Cluster
	accounts *account.Service
	registry *prometheus.Registry
	clients  []*http.Client // to peers' internal listeners; see peerClient

	ring    *cache.Ring
	pages   *page.Service
	store   *pagestore.Store
	browser *render.Pool // nil when cfg.Renderer is injected
	ctl     *cachectl.Service
	jobs    *jobs.Runner
	usage   *usage.Counter
	limiter *ratelimit.Limiter
	zones   *zone.Service
	meter   *zone.Meter
	assets  *zone.Surface
	tenants *tenant.Service
	sites   *tenantproxy.Surface
	render  *page.Surface // the render surface, once the public handler exists
	traffic *tenanttraffic.Service

	httpLn, internalLn net.Listener
	httpSrv, intSrv    *http.Server

	bootstrapped bool
	unsubscribe  func()
	stopOnce     sync.Once
	wg           sync.WaitGroup
	cancel       context.CancelFunc
}

// Start opens the node's state, starts raft, gossip and both HTTP
// listeners, and bootstraps a new cluster when the data dir is empty and no
// Join addresses are given. It returns once the node serves requests; a
// bootstrapping node also waits until it leads.
func Start(ctx context.Context, cfg Config) (_ *Node, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger.With("node", cfg.Name)
	n := &Node{cfg: cfg, log: log, registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			n.kill()
		}
	}()
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.cancel = cancel

	// 1. Local state: one Pebble database for the raft log, stable store
	// and state machine.
	if n.db, err = storage.Open(filepath.Join(cfg.DataDir, "state"), storage.Options{Logger: log}); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}

	// 2. Listeners first, so ":0" addresses are known before they are
	// gossiped.
	if n.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("node: listen http: %w", err)
	}
	if n.internalLn, err = net.Listen("tcp", cfg.InternalAddr); err != nil {
		return nil, fmt.Errorf("node: listen internal: %w", err)
	}

	// 3. The state machine with every replicated resource's commands, and
	// raft over it, with membership read through an adapter over gossip.
	if err := n.startRaft(n.newFSM()); err != nil {
		return nil, err
	}

	// 4. Gossip, advertising every listener's address.
	if err := n.startGossip(runCtx); err != nil {
		return nil, err
	}

	// 5. A new data dir with nobody to join founds a cluster.
	if len(cfg.Join) == 0 {
		if n.bootstrapped, err = n.raft.BootstrapIfNew(n.db); err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
	}

	// 6. The render cache: the browser, the on-disk L2 and the sharded
	// in-memory cache whose ring follows membership.
	policy := origin.Policy{AllowPrivate: cfg.AllowPrivateOrigins, AllowCIDRs: cfg.AllowOriginCIDRs}
	if err := n.startPages(runCtx, policy); err != nil {
		return nil, err
	}
	n.updateRing()

	// 7. Services and HTTP.
	if err := n.startServices(runCtx, policy); err != nil {
		return nil, err
	}

	// 8. The founding node records the admin token's hash so that every
	// node accepts it.
	if n.bootstrapped {
		if err := n.storeAdminToken(ctx); err != nil {
			return nil, err
		}
	}
	// 9. An operator's pending admin-token reset (rendercache admin-token
	// reset) goes through raft once there is a leader.
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if _, err := operator.ApplyPendingReset(runCtx, n.raft, cfg.DataDir, log); err != nil && runCtx.Err() == nil {
			log.Error("admin token reset failed", "err", err)
		}
		n.warnSupersededToken(runCtx)
	}()
	log.Info("node started", "http", n.HTTPAddr(), "internal", n.InternalAddr(), "raft", n.raft.Addr(), "gossip", cfg.GossipAddr, "bootstrapped", n.bootstrapped)
	return n, nil
}

// newFSM returns the state machine with the commands of every replicated
// resource.
func (n *Node) newFSM() *consensus.FSM {
	fsm := consensus.NewFSM(n.db.State(), n.log.With("subsystem", "fsm"))
	// What goes with a domain when it is deleted, alone or with its account.
	domainCascades := []domain.Cascade{webhook.DeleteForDomain}
	account.Register(fsm, apikey.DeleteForAccount, domain.ForAccount(domainCascades...), zone.ForAccount, tenant.ForAccount)
	apikey.Register(fsm)
	domain.Register(fsm, domainCascades...)
	webhook.Register(fsm)
	operator.Register(fsm)
	usage.Register(fsm)
	zone.Register(fsm)
	tenant.Register(fsm)
	tenanttraffic.Register(fsm)
	return fsm
}

// startRaft starts raft over the node's database with fsm; membership is
// read through an adapter over gossip.
func (n *Node) startRaft(fsm *consensus.FSM) (err error) {
	cfg := n.cfg
	rcfg := consensus.Default()
	if cfg.Fast {
		rcfg = rcfg.Fast()
	}
	rcfg.NodeID = cfg.Name
	rcfg.BindAddr = cfg.RaftAddr
	rcfg.SnapshotDir = filepath.Join(cfg.DataDir, "snapshots")
	rcfg.Voters = cfg.Voters
	rcfg.DeadNodeTimeout = cfg.DeadNodeTimeout
	rcfg.Logger = n.log
	rcfg.Faults = cfg.Faults
	if cfg.TrailingLogs > 0 {
		rcfg.TrailingLogs = cfg.TrailingLogs
	}
	if n.raft, err = consensus.New(rcfg, n.db, fsm, membership{n}, n.peerClient(10*time.Second)); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// startGossip joins the gossip cluster, advertising every listener's
// address, and follows its membership events.
func (n *Node) startGossip(runCtx context.Context) (err error) {
	cfg := n.cfg
	// Membership events move the cache ring from the start, so it exists
	// first.
	n.ring = cache.NewRing(cfg.Name)
	profile := "lan"
	if cfg.Fast {
		profile = "local"
	}
	if n.members, err = cluster.New(runCtx, cluster.Config{
		Name:      cfg.Name,
		BindAddr:  cfg.GossipAddr,
		Key:       cfg.ClusterKey,
		Meta:      cluster.Meta{HTTPAddr: n.httpLn.Addr().String(), InternalAddr: n.internalLn.Addr().String(), RaftAddr: n.raft.Addr()},
		Join:      cfg.Join,
		PeersFile: filepath.Join(cfg.DataDir, "peers.json"),
		Profile:   profile,
		Logger:    n.log,
		Faults:    cfg.Faults,
	}); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	events, unsubscribe := n.members.Subscribe()
	n.unsubscribe = unsubscribe
	n.wg.Add(1)
	go n.watchMembers(runCtx, events)
	return nil
}

// startServices creates the services and the API, and starts the public
// and internal HTTP servers.
func (n *Node) startServices(runCtx context.Context, policy origin.Policy) error {
	cfg := n.cfg
	n.accounts = account.NewService(n.raft, n.db.State(), cfg.Plans)
	keys := apikey.NewService(n.raft, n.db.State(), n.log)
	n.wg.Add(1)
	go func() { defer n.wg.Done(); keys.RunToucher(runCtx, cfg.KeyTouchInterval) }()
	n.registerMetrics()
	state := n.db.State()
	domains := domain.NewService(n.raft, state, policy)
	webhooks := webhook.NewService(n.raft, state)
	n.startCacheControl(runCtx, domains, policy)
	api := n.newAPI(keys, domains, webhooks)
	n.registerZoneAPI(api, keys, policy)
	if err := n.startTraffic(runCtx); err != nil {
		return err
	}
	if err := n.registerTenantAPI(api, keys, policy); err != nil {
		return err
	}
	// The public listener: edge dispatches by host to the cache surfaces
	// and hands everything else to the API; WrapPublic (tests: the
	// contract check) goes around it all.
	public := n.publicHandler(api, keys, policy)
	if cfg.WrapPublic != nil {
		public = cfg.WrapPublic(public)
	}
	n.httpSrv = &http.Server{Handler: public, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	internal := http.NewServeMux()
	internal.Handle(consensus.PathPrefix, n.raft.Handler())
	internal.Handle(cache.PathPrefix, cache.Handler(append([]*cache.Group{n.pages.Group(), n.assets.Group()}, n.sites.Groups()...)...))
	internal.Handle(cachectl.PathPrefix, n.ctl.Handler())
	internal.Handle(jobs.PathPrefix, n.jobs.Handler())
	internal.Handle(page.PathPrefix, n.pages.Handler())
	internal.Handle(ratelimit.PathPrefix, n.limiter.Handler())
	internal.Handle(tenanttraffic.PathPrefix, n.traffic.Handler())
	n.intSrv = &http.Server{Handler: peer.Require(cfg.ClusterKey, internal), ReadHeaderTimeout: 10 * time.Second}
	// net/http's own answers to unparseable requests get JSON bodies too.
	n.serve(n.httpSrv, httpapi.WrapListener(n.httpLn))
	n.serve(n.intSrv, n.internalLn)
	return nil
}

func (n *Node) serve(srv *http.Server, ln net.Listener) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// warnSupersededToken logs once, when the node has caught up, if its
// --admin-token is not the cluster's (replaced by a reset, or given
// wrong): Check does not accept it, and an operator should know why.
func (n *Node) warnSupersededToken(ctx context.Context) {
	if n.cfg.AdminToken == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := n.raft.Fresh(ctx); err != nil {
		return
	}
	if operator.Superseded(n.db.State(), n.cfg.AdminToken) {
		n.log.Warn("this node's --admin-token is not the cluster's admin token and is not accepted; use the cluster's token, or replace it with `rendercache admin-token reset`")
	}
}

func (n *Node) storeAdminToken(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	token, generated := n.cfg.AdminToken, false
	if token == "" {
		token, generated = operator.NewToken(), true
	}
	if err := operator.StoreToken(ctx, n.raft, token); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if generated && n.cfg.OnAdminToken != nil {
		n.cfg.OnAdminToken(token)
	}
	return nil
}

func (n *Node) watchMembers(ctx context.Context, events <-chan cluster.Event) {
	defer n.wg.Done()
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			n.log.Debug("membership event", "type", ev.Type.String(), "member", ev.Member.Name)
			n.raft.Kick()
			// Debounce: a burst of events (a node restarting, a
			// partition healing) moves keys once, not once per event.
			if debounce == nil {
				debounce = time.After(ringDebounce)
			}
		case <-debounce:
			debounce = nil
			n.updateRing()
		}
	}
}

// Name returns the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// HTTPAddr returns the public API's bound address.
func (n *Node) HTTPAddr() string { return n.httpLn.Addr().String() }

// InternalAddr returns the internal listener's bound address.
func (n *Node) InternalAddr() string { return n.internalLn.Addr().String() }

// RaftAddr returns raft's advertised address.
func (n *Node) RaftAddr() string { return n.raft.Addr() }

// GossipAddr returns the gossip address.
func (n *Node) GossipAddr() string { return n.cfg.GossipAddr }

// Bootstrapped reports whether this start founded a new cluster.
func (n *Node) Bootstrapped() bool { return n.bootstrapped }

// Handler returns the public listener's handler, so that benchmarks can
// measure a hit without the network in the way.
func (n *Node) Handler() http.Handler { return n.httpSrv.Handler }

// Raft exposes the node's consensus for tests and admin commands.
func (n *Node) Raft() *consensus.Raft { return n.raft }

// Members exposes the node's gossip view.
func (n *Node) Members() *cluster.Cluster { return n.members }

// State exposes the node's replicated state for tests.
func (n *Node) State() *storage.State { return n.db.State() }

// Stop leaves the cluster gracefully: it stops taking requests, hands over
// leadership, leaves raft's configuration and gossip, then closes its
// state. Idempotent.
func (n *Node) Stop(ctx context.Context) error {
	var errs []error
	n.stopOnce.Do(func() {
		n.log.Info("node stopping")
		shutCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := n.httpSrv.Shutdown(shutCtx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		// The renders counted since the last report, while this node can
		// still propose.
		if err := n.usage.Report(shutCtx); err != nil {
			n.log.Warn("final usage report failed; the renders since the last report are not counted", "err", err)
		}
		if err := n.traffic.Stop(shutCtx); err != nil {
			n.log.Warn("final tenant traffic report failed; the requests since the last report are not counted", "err", err)
		}
		if err := n.raft.Leave(shutCtx); err != nil {
			n.log.Warn("leaving raft failed; the leader removes this node when gossip reports it left", "err", err)
		}
		// A leave that no member confirmed (every peer stopping at the
		// same moment) is not a failed stop: gossip is shut down either
		// way, and the others declare this node dead instead of left.
		if err := n.members.Leave(shutCtx); err != nil {
			n.log.Warn("leaving the gossip cluster was not confirmed; the other members will declare this node dead", "err", err)
		}
		errs = append(errs, n.closeAll()...)
		n.log.Info("node stopped")
	})
	return errors.Join(errs...)
}

// Kill stops the node abruptly, as a crash would: no leadership transfer,
// no leave message. Pebble data already synced stays. Idempotent.
func (n *Node) Kill() {
	n.stopOnce.Do(func() { n.kill() })
}

// kill closes everything without a goodbye to the cluster. In
// fault-injection tests the node is down meanwhile, so that its connections
// die as they would with the process; partitions are left as they are.
func (n *Node) kill() {
	if n.cfg.Faults != nil {
		n.cfg.Faults.Down(n.cfg.Name)
		defer n.cfg.Faults.Up(n.cfg.Name)
	}
	if n.httpSrv != nil {
		n.httpSrv.Close()
	}
	if n.members != nil {
		n.members.Shutdown()
	}
	n.closeAll()
}

// peerClient returns an authenticated client for peers' internal
// listeners, closed with the node.
func (n *Node) peerClient(timeout time.Duration) *http.Client {
	c := peer.NewClient(n.cfg.ClusterKey, n.cfg.Name, n.cfg.Faults, timeout)
	n.clients = append(n.clients, c)
	return c
}

// closeAll releases everything still open, in dependency order.
func (n *Node) closeAll() []error {
	var errs []error
	if n.cancel != nil {
		n.cancel()
	}
	if n.unsubscribe != nil {
		n.unsubscribe()
	}
	if n.members != nil {
		n.members.Shutdown()
	}
	if n.pages != nil {
		n.pages.Close()
		if n.assets != nil {
			n.assets.Close()
		}
		if n.sites != nil {
			n.sites.Close()
		}
	}
	if n.browser != nil {
		if err := n.browser.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if n.raft != nil {
		if err := n.raft.Shutdown(); err != nil {
			errs = append(errs, err)
		}
	}
	if n.intSrv != nil {
		n.intSrv.Close()
	}
	if n.httpSrv != nil {
		n.httpSrv.Close()
	}
	for _, ln := range []net.Listener{n.httpLn, n.internalLn} {
		if ln != nil {
			ln.Close()
		}
	}
	n.wg.Wait()
	for _, c := range n.clients {
		c.CloseIdleConnections() // or their readers outlive the node
	}
	if n.db != nil {
		if err := n.db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
