package render

import (
	"context"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	// probeTimeout bounds the health check of a browser a render found
	// unresponsive; a browser that cannot list its tabs in this time is
	// hung.
	probeTimeout = 5 * time.Second
	// hangGrace is how far past its timeout a render may run before its
	// browser counts as wedged and is killed. Every step of a render is
	// bounded by its context; only closing the tab is not, and chromedp
	// gives that about 5s.
	hangGrace = 15 * time.Second
	// restartBackoffMax caps the wait between failed browser starts.
	restartBackoffMax = 5 * time.Second
)

// supervise keeps one healthy browser running until Close. It starts a
// new browser when the current one exits (a crash, the OOM killer, or a
// kill after a hang), kills one that fails a health probe, and replaces
// one past the memory ceiling. It is the only goroutine that replaces
// browsers, so replacements never race.
func (p *Pool) supervise() {
	defer p.wg.Done()
	var memTick <-chan time.Time
	if p.opts.MemoryLimit > 0 {
		t := time.NewTicker(p.opts.MemoryCheck)
		defer t.Stop()
		memTick = t.C
	}
	for {
		p.mu.Lock()
		b := p.cur
		p.mu.Unlock()
		if b == nil {
			return // closed while restarting
		}
		select {
		case <-p.stopCtx.Done():
			return
		case <-b.ctx.Done():
			if p.isClosed() {
				return // Close killed it; that is no crash
			}
			p.restart(b)
		case s := <-p.suspects:
			if s == b {
				p.probe(b)
			}
		case <-p.recycleNow:
			p.log.Info("replacing chromium on request", "pid", b.pid)
			p.recycle(b)
		case <-memTick:
			if m := memoryOf(b.pid); m > p.opts.MemoryLimit {
				p.log.Info("chromium passed its memory ceiling; replacing it", "pid", b.pid, "bytes", m, "limit", p.opts.MemoryLimit)
				p.recycle(b)
			}
		}
	}
}

// restart replaces a browser that exited, retrying with backoff while new
// ones fail to start. Renders wait for the new browser meanwhile.
func (p *Pool) restart(old *browser) {
	p.mu.Lock()
	if p.cur == old {
		p.cur = nil
	}
	p.mu.Unlock()
	p.restarts.Add(1)
	p.log.Warn("chromium exited; starting a new one", "pid", old.pid)
	p.shutdown(old) // reaps it and kills its helpers
	backoff := 100 * time.Millisecond
	for {
		nb, err := p.launch(p.stopCtx)
		if err == nil {
			p.install(nb)
			return
		}
		if p.isClosed() {
			return
		}
		p.log.Error("chromium restart failed", "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-p.stopCtx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, restartBackoffMax)
	}
}

// install makes b the browser new renders use, or shuts it down when the
// pool closed meanwhile.
func (p *Pool) install(b *browser) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.shutdown(b)
		return
	}
	p.cur = b
	p.browsers[b] = struct{}{}
	close(p.changed)
	p.changed = make(chan struct{})
	for range p.opts.WarmTabs {
		p.wg.Add(1)
		go p.keepWarm(b)
	}
	p.mu.Unlock()
}

// recycle starts a new browser for new renders and shuts old down once
// the renders still running on it end, or after a grace period.
func (p *Pool) recycle(old *browser) {
	nb, err := p.launch(p.stopCtx)
	if err != nil {
		p.log.Error("starting a replacement chromium failed; keeping the old one", "err", err)
		return
	}
	p.mu.Lock()
	if p.closed || p.cur != old {
		p.mu.Unlock()
		p.shutdown(nb)
		return
	}
	old.retired = true
	close(old.retire)
	idle := old.refs == 0
	p.mu.Unlock()
	p.recycles.Add(1)
	p.install(nb)
	if idle {
		p.shutdown(old)
		return
	}
	// Renders hold old; the last one shuts it down (releaseBrowser). A
	// render wedged on it is bounded by its own watchdog (renderTab),
	// which kills the browser after the render's timeout and the grace.
}

// acquireBrowser returns the running browser, other than last, waiting
// while a new one starts. The caller must releaseBrowser it.
func (p *Pool) acquireBrowser(ctx context.Context, last *browser) (*browser, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		b, changed := p.cur, p.changed
		if b != nil && b != last && b.alive() {
			b.refs++
			p.mu.Unlock()
			return b, nil
		}
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for chromium to restart: %w", ctxError(ctx, ctx.Err()))
		case <-p.stopCtx.Done():
			return nil, ErrClosed
		}
	}
}

// releaseBrowser ends a render's use of b; the last render on a retired
// browser shuts it down.
func (p *Pool) releaseBrowser(b *browser) {
	p.mu.Lock()
	b.refs--
	last := b.retired && b.refs == 0 && !p.closed
	if last {
		p.wg.Add(1) // the caller's render holds the count above 0
	}
	p.mu.Unlock()
	if last {
		go func() {
			defer p.wg.Done()
			p.shutdown(b)
		}()
	}
}

// suspect asks the supervisor to check b: a render could not open a tab
// or get an answer within its whole timeout, which a slow page explains
// as well as a hung browser.
func (p *Pool) suspect(b *browser) {
	select {
	case p.suspects <- b:
	default: // a check is pending already
	}
}

// probe kills b when it cannot list its tabs within probeTimeout: the
// browser process itself is stuck. A hung page does not fail this, since
// pages run in renderer processes of their own.
func (p *Pool) probe(b *browser) {
	ctx, cancel := context.WithTimeout(b.ctx, probeTimeout)
	defer cancel()
	if _, err := chromedp.Targets(ctx); err != nil && b.alive() && !p.isClosed() {
		p.log.Error("chromium does not answer; killing it", "pid", b.pid, "err", err)
		b.kill()
	}
}
