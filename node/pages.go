package node

import (
	"context"
	"fmt"
	"time"

	"github.com/rendercache/rendercache/cache"
	"github.com/rendercache/rendercache/cluster"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/pagestore"
	"github.com/rendercache/rendercache/peer"
	"github.com/rendercache/rendercache/render"
)

// ringDebounce is how long membership must be quiet before the cache ring
// follows it.
const ringDebounce = 250 * time.Millisecond

// sweepInterval is how often expired pages leave the L2.
const sweepInterval = time.Minute

// startPages starts the browser (unless one is injected), opens the L2 and
// creates the render cache.
func (n *Node) startPages(ctx context.Context, policy origin.Policy) error {
	var err error
	if n.store, err = pagestore.Open(n.db.Local(), pagestore.Options{Limit: n.cfg.L2Bytes}); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.renderer = n.cfg.Renderer
	if n.renderer == nil {
		n.browser, err = render.New(ctx, render.Options{
			ChromePath:  n.cfg.ChromePath,
			Concurrency: n.cfg.RenderConcurrency,
			Timeout:     n.cfg.RenderTimeout,
			Policy:      policy,
			Logger:      n.log.With("subsystem", "render"),
		})
		if err != nil {
			return fmt.Errorf("node: %w", err)
		}
		n.renderer = n.browser
	}
	n.ring = cache.NewRing(n.cfg.Name)
	state := n.db.State()
	n.pages = page.New(page.Config{
		Node:          n.cfg.Name,
		Ring:          n.ring,
		Client:        peer.NewClient(n.cfg.ClusterKey, n.cfg.Name, n.cfg.Faults, 3*n.cfg.RenderTimeout+2*time.Minute),
		Bytes:         n.cfg.CacheBytes,
		Store:         n.store,
		Renderer:      n.renderer,
		Domain:        func(host string) (domain.Domain, error) { return domain.Lookup(state, host) },
		RenderTimeout: n.cfg.RenderTimeout,
		Logger:        n.log.With("subsystem", "page"),
	})
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		t := time.NewTicker(sweepInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if k, err := n.store.Sweep(); err != nil {
					n.log.Warn("page store sweep failed", "err", err)
				} else if k > 0 {
					n.log.Debug("expired pages removed", "count", k)
				}
			}
		}
	}()
	return nil
}

// updateRing points the cache ring at the live members.
func (n *Node) updateRing() {
	live := map[string]string{}
	for _, m := range n.members.Members() {
		if m.State == cluster.StateAlive && m.Meta.InternalAddr != "" {
			live[m.Name] = m.Meta.InternalAddr
		}
	}
	live[n.cfg.Name] = ""
	n.ring.Set(live)
}

// Ring exposes the cache ring, so tests can find a key's owner.
func (n *Node) Ring() *cache.Ring { return n.ring }

// Pages exposes the render cache.
func (n *Node) Pages() *page.Service { return n.pages }
