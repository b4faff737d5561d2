package render_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rendercache/rendercache/render"
)

// TestFairnessBetweenDomains queues a burst of 200 renders of one domain
// and then 5 of another, behind two renders of the burst that hold both
// slots at a gate, and checks that the second domain's renders finish
// before half of the burst has: within a priority, domains share the
// slots. The same holds for background jobs and for live misses.
func TestFairnessBetweenDomains(t *testing.T) {
	const burst, few = 200, 5
	g := newGates(t)
	s := slowSite(t, g)
	p, err := render.New(context.Background(), render.Options{
		Concurrency: 2, QueueSize: 2 * (burst + few), DomainQueueSize: burst + few, IdleTime: testIdle, Policy: loopbackOnly,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	for _, prio := range []render.Priority{render.Background, render.Live} {
		t.Run(map[render.Priority]string{render.Live: "live", render.Background: "background"}[prio], func(t *testing.T) {
			type done struct {
				domain string
				err    error
			}
			finished := make(chan done, burst+few)
			start := func(domain, path string) {
				go func() {
					_, err := p.Render(context.Background(), render.Request{URL: s.URL + path, Priority: prio, Domain: domain})
					finished <- done{domain, err}
				}()
			}
			// The burst's first two renders hold both slots until the gate
			// opens; the rest of the burst, then the other domain's few,
			// queue behind them.
			gate := fmt.Sprintf("hold-%d", prio)
			held := s.count("/api/slow")
			for i := range 2 {
				start("a.test", fmt.Sprintf("/slow?g=%s&i=%d", gate, i))
			}
			poll(t, "the burst to hold both slots", func() bool { return p.Stats().Active == 2 && s.count("/api/slow") == held+2 })
			for i := range burst - 2 {
				start("a.test", fmt.Sprintf("/quick?a=%d", i))
			}
			poll(t, "the burst to queue", func() bool { return p.Stats().Queued == burst-2 })
			for i := range few {
				start("b.test", fmt.Sprintf("/quick?b=%d", i))
			}
			poll(t, "the other domain to queue", func() bool { return p.Stats().Queued == burst-2+few })
			g.open(gate)

			var a, b int
			for range burst + few {
				d := <-finished
				if d.err != nil {
					t.Fatalf("a render of %s failed: %v", d.domain, d.err)
				}
				if d.domain == "b.test" {
					b++
					if b == few && a >= burst/2 {
						t.Fatalf("the other domain's %d renders finished after %d of the burst's %d", few, a, burst)
					}
					if b == few {
						t.Logf("the other domain's %d renders finished after %d of the burst's %d", few, a, burst)
					}
				} else {
					a++
				}
			}
		})
	}
}
