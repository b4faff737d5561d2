package render

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// takeTab returns a tab on b: a warm one when b has one ready or is
// opening one (opening a second at the same time would only slow both
// down), else one opened now.
func (p *Pool) takeTab(ctx context.Context, b *browser) (*tab, error) {
	if b.pending.Load() == 0 {
		return p.openTab(ctx, b)
	}
	select {
	case t := <-b.warm:
		b.pending.Add(-1)
		p.warmTabs.Add(-1)
		return t, nil
	case <-b.ctx.Done():
		return p.openTab(ctx, b) // fails as the browser's other calls do
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			p.suspect(b)
		}
		return nil, p.classify(ctx, b, fmt.Errorf("waiting for a warm tab: %w", ctx.Err()))
	}
}

// keepWarm holds one tab of b open ahead of the next render, and opens
// another each time a render has taken it and loaded its page, until b is
// retired or exits or the pool closes. Each browser runs Options.WarmTabs
// of these. Waiting for the load matters: opening a tab keeps the
// browser process busy for tens of milliseconds (a window, a renderer),
// and while the page loads that doubled the load's time; afterwards the
// page mostly waits for its own scripts.
//
// b.pending counts the tabs being opened or ready and not yet taken, so
// that takeTab waits for them: a warmer adds its tab before opening it and
// takes it off when it fails or discards it; takeTab, when it takes one.
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
		b.pending.Add(1)
		t, err := p.openTab(ctx, b)
		cancel()
		if err != nil {
			b.pending.Add(-1)
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
		b.pending.Add(-1)
		p.warmTabs.Add(-1)
		p.discard(t)
		return
	}
}
