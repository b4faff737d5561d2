package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/rendercache/rendercache/internal/logbridge"
)

// forgetAfter is how long dead and left members stay in Members.
const forgetAfter = 24 * time.Hour

// defaultTimeout bounds Leave and UpdateMeta when ctx has no deadline.
const defaultTimeout = 5 * time.Second

// maxReconnect caps how many dead peers one reconnect round contacts.
const maxReconnect = 3

// Cluster is this node's membership in the gossip cluster. All methods are
// safe for concurrent use.
type Cluster struct {
	cfg       Config
	log       *slog.Logger
	ml        *memberlist.Memberlist
	timing    timing
	advertise string // our gossip host:port
	boot      int64  // start time, identifies our leave intent
	now       func() time.Time

	meta       atomic.Pointer[[]byte] // encoded Meta for NodeMeta
	broadcasts *memberlist.TransmitLimitedQueue
	aliveCount atomic.Int32
	leaving    atomic.Bool // Leave has started

	mu          sync.Mutex
	members     map[string]*record
	intents     map[string]int64 // node -> boot of the last leave intent seen
	subs        map[*subscriber]struct{}
	filePeers   []string // from PeersFile at start
	metPeer     bool     // another member has been seen alive
	forgetAfter time.Duration

	lifeMu      sync.Mutex // serialises Leave, UpdateMeta and Shutdown
	closed      bool       // guarded by lifeMu
	cancelLoop  context.CancelFunc
	stop        chan struct{} // closed by Shutdown
	wg          sync.WaitGroup
	persistKick chan struct{}
}

// New validates cfg, binds the gossip listeners and starts memberlist. It
// then joins in the background: while no other member is alive and Join or
// the PeersFile name someone, it retries every ~1s with backoff capped at
// ~5s (faster with the "local" profile), and while other members are alive
// it periodically re-joins members it sees dead, so that partitions heal.
// That loop ends when ctx ends or at Shutdown; the membership itself lives
// until Leave or Shutdown.
func New(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	metaBytes, err := encodeMeta(cfg.Meta)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Profile == "" {
		cfg.Profile = profileLAN
	}
	cfg.Join = slices.Clone(cfg.Join)
	mc, t, err := cfg.memberlistConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	log := cfg.Logger.With("subsystem", "cluster", "node", cfg.Name)
	c := &Cluster{
		cfg:         cfg,
		log:         log,
		timing:      t,
		boot:        time.Now().UnixNano(),
		now:         time.Now,
		members:     map[string]*record{},
		intents:     map[string]int64{},
		subs:        map[*subscriber]struct{}{},
		forgetAfter: forgetAfter,
		stop:        make(chan struct{}),
		persistKick: make(chan struct{}, 1),
	}
	c.advertise = cfg.AdvertiseAddr
	if c.advertise == "" {
		c.advertise = cfg.BindAddr
	}
	c.meta.Store(&metaBytes)
	c.broadcasts = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return int(c.aliveCount.Load()) },
		RetransmitMult: mc.RetransmitMult,
	}
	if cfg.PeersFile != "" {
		if c.filePeers, err = readPeers(cfg.PeersFile); err != nil {
			log.Warn("ignoring unreadable peers file", "path", cfg.PeersFile, "err", err)
		}
	}

	mlLog := logbridge.ToStdLog(log.With("component", "memberlist"))
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{mc.BindAddr},
		BindPort:  mc.BindPort,
		Logger:    mlLog,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: listen %s: %w", cfg.BindAddr, err)
	}
	var transport memberlist.NodeAwareTransport = nt
	if cfg.Faults != nil {
		transport = newFaultTransport(nt, cfg.Faults, cfg.Name)
	}
	mc.Transport = transport
	mc.Logger = mlLog
	mc.Delegate = delegate{c}
	mc.Events = events{c}
	if c.ml, err = memberlist.Create(mc); err != nil {
		_ = transport.Shutdown() // Create does not always release it
		return nil, fmt.Errorf("cluster: start memberlist: %w", err)
	}

	loopCtx, cancel := context.WithCancel(ctx)
	c.cancelLoop = cancel
	c.wg.Add(1)
	go c.joinLoop(loopCtx)
	if cfg.PeersFile != "" {
		c.wg.Add(1)
		go c.persistLoop()
		c.kickPersist()
	}
	log.Info("gossip started", "addr", c.advertise, "profile", cfg.Profile, "encrypted", len(cfg.Key) > 0, "seeds", len(c.seeds()))
	return c, nil
}

// LocalName returns this node's name.
func (c *Cluster) LocalName() string { return c.cfg.Name }

// Join contacts addrs (gossip host:port) and merges state with every one
// that answers, returning how many did. It fails only if none answered, or
// if ctx ends first (the attempt then finishes in the background).
func (c *Cluster) Join(ctx context.Context, addrs []string) (int, error) {
	if len(addrs) == 0 {
		return 0, fmt.Errorf("cluster: join: %w", ErrNoAddresses)
	}
	c.lifeMu.Lock()
	if c.closed {
		c.lifeMu.Unlock()
		return 0, fmt.Errorf("cluster: join: %w", ErrShutdown)
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	c.wg.Add(1)
	c.lifeMu.Unlock()
	go func() {
		defer c.wg.Done()
		n, err := c.ml.Join(slices.Clone(addrs))
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return r.n, fmt.Errorf("cluster: join: %w", r.err)
		}
		return r.n, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("cluster: join: %w", ctx.Err())
	}
}

// Leave leaves gracefully: it tells the other members this node is leaving,
// waits for memberlist's leave broadcast (bounded by ctx's deadline, 5s if
// none), then shuts down. Others see the node as StateLeft. The node is shut
// down even if an error is returned.
func (c *Cluster) Leave(ctx context.Context) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.closed {
		return fmt.Errorf("cluster: leave: %w", ErrShutdown)
	}
	deadline := time.Now().Add(defaultTimeout)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	c.leaving.Store(true)
	var err error
	if c.aliveCount.Load() > 1 {
		err = c.announceLeave(ctx, deadline)
	}
	if err == nil {
		if rest := time.Until(deadline); rest <= 0 {
			err = context.DeadlineExceeded
		} else {
			err = c.ml.Leave(rest)
		}
	}
	if serr := c.shutdownLocked(); err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	c.log.Info("left the cluster")
	return nil
}

// announceLeave gossips this node's leave intent and waits until it has
// been sent enough times, half the time left, or the profile's cap.
func (c *Cluster) announceLeave(ctx context.Context, deadline time.Time) error {
	notify := make(chan struct{})
	c.broadcasts.QueueBroadcast(&intentBroadcast{
		node:   c.cfg.Name,
		msg:    encodeIntent(leaveIntent{Node: c.cfg.Name, Boot: c.boot}),
		notify: notify,
	})
	wait := min(time.Until(deadline)/2, c.timing.leaveIntentWait)
	timer := time.NewTimer(max(wait, 0))
	defer timer.Stop()
	select {
	case <-notify:
	case <-timer.C:
		c.log.Debug("leave intent not fully spread; leaving anyway")
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Shutdown stops gossiping at once, without telling anyone: others will
// declare this node dead. It stops the background loops, closes every
// subscription channel, and is idempotent.
func (c *Cluster) Shutdown() error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	return c.shutdownLocked()
}

func (c *Cluster) shutdownLocked() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.cancelLoop()
	err := c.ml.Shutdown()
	close(c.stop)
	c.wg.Wait()
	c.closeSubscribers()
	if err != nil {
		return fmt.Errorf("cluster: shutdown: %w", err)
	}
	c.log.Debug("gossip stopped")
	return nil
}

// UpdateMeta replaces this node's Meta and gossips it, waiting until the
// update has been sent or ctx's deadline (5s if none) passes.
func (c *Cluster) UpdateMeta(ctx context.Context, m Meta) error {
	b, err := encodeMeta(m)
	if err != nil {
		return fmt.Errorf("cluster: update meta: %w", err)
	}
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.closed {
		return fmt.Errorf("cluster: update meta: %w", ErrShutdown)
	}
	timeout := defaultTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return fmt.Errorf("cluster: update meta: %w", context.DeadlineExceeded)
	}
	c.meta.Store(&b)
	if err := c.ml.UpdateNode(timeout); err != nil {
		return fmt.Errorf("cluster: update meta: %w", err)
	}
	return nil
}

// seeds is Join plus the peers file, without this node's own address.
func (c *Cluster) seeds() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := append(slices.Clone(c.cfg.Join), c.filePeers...)
	s = slices.DeleteFunc(s, func(a string) bool { return a == c.advertise || a == c.cfg.BindAddr })
	slices.Sort(s)
	return slices.Compact(s)
}

// joinLoop keeps this node connected: alone, it joins the seeds and the
// members it last saw dead, backing off; in company, it re-joins up to
// maxReconnect dead members every timing.reconnect, because memberlist
// never probes dead nodes and only gossips to them briefly, so two sides
// of a healed partition would otherwise stay apart.
func (c *Cluster) joinLoop(ctx context.Context) {
	defer c.wg.Done()
	backoff := c.timing.retryMin
	failures := 0
	var lastReconnect time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		c.mu.Lock()
		c.pruneLocked(c.now())
		alone := !c.otherAliveLocked()
		dead := c.peerAddrsLocked(StateDead)
		c.mu.Unlock()

		next := c.timing.retryMin
		switch {
		case alone:
			targets := append(c.seeds(), dead...)
			slices.Sort(targets)
			targets = slices.Compact(targets)
			if len(targets) == 0 {
				break
			}
			n, err := c.ml.Join(targets)
			if err != nil {
				failures++
				level := slog.LevelDebug
				if failures%10 == 0 {
					level = slog.LevelWarn
				}
				c.log.Log(ctx, level, "join failed; retrying", "targets", targets, "attempts", failures, "err", err)
				backoff = min(backoff*2, c.timing.retryMax)
				next = backoff
				break
			}
			c.log.Info("joined cluster", "contacted", n, "after_attempts", failures+1)
			failures, backoff = 0, c.timing.retryMin
		case len(dead) > 0 && time.Since(lastReconnect) >= c.timing.reconnect:
			lastReconnect = time.Now()
			rand.Shuffle(len(dead), func(i, j int) { dead[i], dead[j] = dead[j], dead[i] })
			dead = dead[:min(len(dead), maxReconnect)]
			if n, err := c.ml.Join(dead); err == nil {
				c.log.Debug("reconnected to dead members", "targets", dead, "contacted", n)
			}
		default:
			failures, backoff = 0, c.timing.retryMin
		}
		timer.Reset(next)
	}
}
