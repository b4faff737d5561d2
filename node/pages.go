package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/cache"
	"github.com/rendercache/rendercache/cachectl"
	"github.com/rendercache/rendercache/cluster"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/periodic"
	"github.com/rendercache/rendercache/jobs"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/pagestore"
	"github.com/rendercache/rendercache/ratelimit"
	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/sitemap"
	"github.com/rendercache/rendercache/usage"
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
	renderer := n.cfg.Renderer
	if renderer == nil {
		n.browser, err = render.New(ctx, render.Options{
			ChromePath:  n.cfg.ChromePath,
			Concurrency: n.cfg.RenderConcurrency,
			Timeout:     n.cfg.RenderTimeout,
			MemoryLimit: n.cfg.RenderMemoryLimit,
			Policy:      policy,
			Logger:      n.log.With("subsystem", "render"),
		})
		if err != nil {
			return fmt.Errorf("node: %w", err)
		}
		renderer = n.browser
	}
	state := n.db.State()
	n.usage = usage.NewCounter(n.cfg.Name, n.raft, state, n.log.With("subsystem", "usage"))
	n.pages = page.New(page.Config{
		Node:     n.cfg.Name,
		Ring:     n.ring,
		Client:   n.peerClient(3*n.cfg.RenderTimeout + 2*time.Minute),
		Bytes:    n.cfg.CacheBytes,
		Store:    n.store,
		Renderer: renderer,
		Domain:   n.renderDomain,
		Fresh:    n.raft.Fresh,
		Version:  func(d domain.Domain, path string) string { return domain.Version(state, d, path) },
		// The quota gate is cachectl's, which is created after the page
		// service it uses.
		Allow:         func(d domain.Domain) error { return n.ctl.Allow(d) },
		Rendered:      func(d domain.Domain) { n.usage.Add(d.Domain) },
		RenderTimeout: n.cfg.RenderTimeout,
		Logger:        n.log.With("subsystem", "page"),
	})
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		periodic.Run(ctx, sweepInterval, func(context.Context) {
			if k, err := n.store.Sweep(); err != nil {
				n.log.Warn("page store sweep failed", "err", err)
			} else if k > 0 {
				n.log.Debug("expired pages removed", "count", k)
			}
		})
	}()
	return nil
}

// publicHandler returns the public listener's handler: edge, with the
// render surface over the page service and api for everything else.
func (n *Node) publicHandler(api *httpapi.Router, keys *apikey.Service, policy origin.Policy) http.Handler {
	surface := page.NewSurface(n.pages, page.SurfaceConfig{
		Applied:      n.db.State().AppliedIndex,
		Keys:         keys,
		Bypass:       cachectl.ErrOverQuota,
		OriginPolicy: policy,
		Node:         n.cfg.Name,
		Logger:       n.log.With("subsystem", "page"),
	})
	n.render = surface
	// Tenant hosts get the x-cachely-* fields around edge's answers. The
	// tenant surface comes first: a prerendering tenant's host is a
	// domain to the render surface too (renderDomain), and only its
	// crawlers' page requests may go there (tenantproxy hands them over).
	return n.sites.Wrap(edge.NewHandler(edge.Config{
		Surfaces:  []edge.Surface{n.sites, n.assets, surface},
		API:       api,
		APIRoutes: api.HasRoute,
		Fresh:     n.raft.Fresh,
		Hot:       edge.NewHotMap(n.cfg.HotBytes),
		Node:      n.cfg.Name,
		// A miss may wait for a render, retried once after a crash.
		MissTimeout: 3*n.cfg.RenderTimeout + 30*time.Second,
		Errors:      api.WriteError,
		Registry:    n.registry,
		Logger:      n.log,
	}))
}

// updateRing points the cache ring at the live members.
func (n *Node) updateRing() {
	live := map[string]string{}
	for _, m := range n.liveMembers() {
		live[m.Name] = m.InternalAddr
	}
	live[n.cfg.Name] = "" // this node serves its own keys in-process
	n.ring.Set(live)
}

// Ring exposes the cache ring, so tests can find a key's owner.
func (n *Node) Ring() *cache.Ring { return n.ring }

// Pages exposes the render cache.
func (n *Node) Pages() *page.Service { return n.pages }

// startCacheControl wires refresh jobs, rate limits, usage reports and
// the cluster-wide cache management.
func (n *Node) startCacheControl(ctx context.Context, domains *domain.Service, policy origin.Policy) {
	client := n.peerClient(30 * time.Second)
	n.limiter = ratelimit.New(n.ring, n.peerClient(2*time.Second), n.log.With("subsystem", "ratelimit"))
	state := n.db.State()
	n.jobs = jobs.NewRunner(n.cfg.Name, func(ctx context.Context, j jobs.Job) error {
		// Another node queued the job after reading the domain: if it is
		// not here yet, it arrives with a fresh read.
		d, err := domain.Lookup(state, j.Domain)
		if errors.Is(err, domain.ErrNotFound) {
			if err := n.raft.Fresh(ctx); err != nil {
				return err
			}
			d, err = domain.Lookup(state, j.Domain)
		}
		if err != nil {
			return err
		}
		var rejected error
		for _, v := range []render.Variant{render.Desktop, render.Mobile} {
			if !j.Guarded {
				if _, _, err := n.pages.Get(ctx, d, v, j.Path, render.Background); err != nil {
					return err
				}
				continue
			}
			// A guarded refresh re-renders in place on the page's owner
			// and keeps the cached page if the render is clearly worse.
			o, err := n.pages.Refresh(ctx, d, v, j.Path, j.Kind)
			if err != nil {
				return err
			}
			if rejected == nil {
				rejected = o.Err()
			}
		}
		return rejected
	}, n.log.With("subsystem", "jobs"))
	workers := n.cfg.RenderConcurrency
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	n.wg.Add(2)
	go func() { defer n.wg.Done(); n.jobs.Run(ctx, workers) }()
	go func() { defer n.wg.Done(); n.usage.Run(ctx, n.cfg.UsageReportInterval) }()
	fetchClient := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DialContext: policy.DialContext(10 * time.Second), ResponseHeaderTimeout: 20 * time.Second},
	}
	n.ctl = cachectl.New(cachectl.Config{
		Self:    n.cfg.Name,
		Raft:    raftView{n.raft},
		State:   state,
		Domains: domains,
		Pages:   n.pages,
		Jobs:    n.jobs,
		Usage:   n.usage,
		Plans:   n.cfg.Plans,
		Members: n.liveMembers,
		Client:  client,
		Fetch:   sitemap.HTTPFetch(fetchClient),
		Logger:  n.log.With("subsystem", "cachectl"),
	})
}

// liveMembers lists the alive members with their internal addresses.
func (n *Node) liveMembers() []cachectl.Member {
	out := []cachectl.Member{{Name: n.cfg.Name, InternalAddr: n.InternalAddr()}}
	for _, m := range n.members.Members() {
		if m.Name != n.cfg.Name && m.State == cluster.StateAlive && m.Meta.InternalAddr != "" {
			out = append(out, cachectl.Member{Name: m.Name, InternalAddr: m.Meta.InternalAddr})
		}
	}
	return out
}

// raftView adapts consensus to cachectl.
type raftView struct{ r *consensus.Raft }

func (v raftView) Fresh(ctx context.Context) error { return v.r.Fresh(ctx) }
func (v raftView) Applied() uint64                 { return v.r.FSM().Applied() }
func (v raftView) WaitApplied(ctx context.Context, idx uint64) error {
	return v.r.FSM().WaitApplied(ctx, idx)
}

// PageStore exposes the node's L2, for benchmarks that fill it directly.
func (n *Node) PageStore() *pagestore.Store { return n.store }
