package render

import (
	"context"
	"time"
)

// takeTab returns a tab on b: a warm one when b has one ready, else one
// opened now.
func (p *Pool) takeTab(ctx context.Context, b *browser) (*tab, error) {
	select {
	case t := <-b.warm:
		p.warmTabs.Add(-1)
		return t, nil
	default:
	}
	return p.openTab(ctx, b)
}

// keepWarm holds one tab of b open ahead of the next render, and opens
// another each time a render has taken it and loaded its page, until b is
// retired or exits or the pool closes. Each browser runs Options.WarmTabs
// of these. Waiting for the load matters: opening a tab keeps the
// browser process busy for tens of milliseconds (a window, a renderer),
// and while the page loads that doubled the load's time; afterwards the
// page mostly waits for its own scripts.
func (p *Pool) keepWarm(b *browser) {
	defer p.wg.Done()
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-b.retire:
			return
		case <-b.ctx.Done():
			return
		case <-p.stopCtx.Done():
			return
		default:
		}
		ctx, cancel := context.WithTimeout(p.stopCtx, launchTimeout)
		t, err := p.openTab(ctx, b)
		cancel()
		if err != nil {
			if !b.alive() || p.isClosed() {
				return
			}
			p.log.Debug("opening a warm tab failed", "pid", b.pid, "err", err)
			select {
			case <-b.retire:
			case <-b.ctx.Done():
			case <-p.stopCtx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, restartBackoffMax)
			continue
		}
		backoff = 100 * time.Millisecond
		p.warmTabs.Add(1)
		select {
		case b.warm <- t: // takeTab counts it out
			select {
			case <-t.settled:
			case <-p.stopCtx.Done():
			}
			b.loads.wait(p.stopCtx.Done())
			continue
		case <-b.retire:
		case <-b.ctx.Done():
		case <-p.stopCtx.Done():
		}
		p.warmTabs.Add(-1)
		p.discard(t)
		return
	}
}
