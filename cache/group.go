package cache

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/groupcache"
)

// Fill computes key's value on this node after a cluster-wide miss. Its
// context is detached from the request that caused the miss and bounded by
// the group's FillTimeout, so one impatient client cannot fail everyone
// waiting on the same fill.
type Fill func(ctx context.Context, key string) ([]byte, error)

// Config describes one group of one node.
type Config struct {
	// Name is the logical group name, the same on every node ("render").
	Name string
	// Bytes bounds the group's in-memory cache on this node.
	Bytes int64
	// Fill produces values on a miss.
	Fill Fill
	// FillTimeout bounds a fill, including the wait on a peer. Default 30s.
	FillTimeout time.Duration
	// Ring picks owners; the node's groups share one.
	Ring *Ring
	// Client calls peers' internal listeners (peer.NewClient).
	Client *http.Client
}

// Group is one node's share of a cluster-wide cache. Safe for concurrent
// use.
type Group struct {
	cfg      Config
	fullName string
	gc       *groupcache.Group
	closed   atomic.Bool
}

var (
	registerOnce sync.Once
	// registry maps groupcache's process-global group names to the node
	// group that owns each; the one per-group picker dispatches through it.
	registry    sync.Map
	incarnation atomic.Uint64
)

// New creates the group. Its groupcache name is unique per node
// incarnation ("n1#3/render"), because groupcache cannot forget a group
// and a restarted in-process node needs a fresh one; on the wire the group
// is known by its logical Name.
func New(cfg Config) *Group {
	if cfg.FillTimeout <= 0 {
		cfg.FillTimeout = 30 * time.Second
	}
	registerOnce.Do(func() {
		groupcache.RegisterPerGroupPeerPicker(func(name string) groupcache.PeerPicker {
			if g, ok := registry.Load(name); ok {
				return g.(*Group)
			}
			return groupcache.NoPeers{}
		})
	})
	g := &Group{cfg: cfg, fullName: fmt.Sprintf("%s#%d/%s", cfg.Ring.Self(), incarnation.Add(1), cfg.Name)}
	registry.Store(g.fullName, g)
	g.gc = groupcache.NewGroup(g.fullName, cfg.Bytes, groupcache.GetterFunc(g.getLocally))
	return g
}

// Close stops the group from calling peers. groupcache cannot drop a
// group, so its memory stays until the process exits; a node is one
// process in production, and tests keep Bytes small.
func (g *Group) Close() {
	g.closed.Store(true)
	registry.Delete(g.fullName)
}

// noteKey carries a *note through one groupcache flight.
type noteKey struct{}

// note records what the peer said during a flight: when the owner answered
// with an error of its fill (rather than being unreachable), the local
// getter must not fill the same key a second time.
type note struct{ remote error }

// Get returns key's value from this node's cache, the owner's, or a fill.
// The lookup runs detached from ctx (bounded by FillTimeout); Get returns
// early with ctx's error when ctx ends first.
func (g *Group) Get(ctx context.Context, key string) ([]byte, error) {
	if g.closed.Load() {
		return nil, ErrClosed
	}
	type result struct {
		v   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.FillTimeout)
		defer cancel()
		fctx = context.WithValue(fctx, noteKey{}, &note{})
		var v []byte
		err := g.gc.Get(fctx, key, groupcache.AllocatingByteSliceSink(&v))
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// getLocally is groupcache's getter: it runs when this node owns the key,
// or when the owner could not be reached.
func (g *Group) getLocally(ctx context.Context, key string, dest groupcache.Sink) error {
	if n, ok := ctx.Value(noteKey{}).(*note); ok && n.remote != nil {
		return n.remote
	}
	v, err := g.cfg.Fill(ctx, key)
	if err != nil {
		return err
	}
	return dest.SetBytes(v)
}

// PickPeer implements groupcache.PeerPicker with the shared ring.
func (g *Group) PickPeer(key string) (groupcache.ProtoGetter, bool) {
	if g.closed.Load() {
		return nil, false
	}
	owner, addr := g.cfg.Ring.Owner(key)
	if owner == g.cfg.Ring.Self() || addr == "" {
		return nil, false
	}
	return &remote{g: g, name: owner, addr: addr}, true
}

// Stats reports groupcache's counters and this node's cache sizes, for
// metrics.
func (g *Group) Stats() (groupcache.Stats, groupcache.CacheStats, groupcache.CacheStats) {
	return g.gc.Stats, g.gc.CacheStats(groupcache.MainCache), g.gc.CacheStats(groupcache.HotCache)
}
