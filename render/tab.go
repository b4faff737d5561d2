package render

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// pollInterval is how often readiness is checked.
const pollInterval = 50 * time.Millisecond

// goneError means the browser died under a render; the pool retries once.
type goneError struct {
	pid int
	err error
}

func (e *goneError) Error() string {
	return fmt.Sprintf("chromium (pid %d) exited during the render: %v", e.pid, e.err)
}
func (e *goneError) Unwrap() error { return e.err }

// tab is one render in progress in its own tab. Its request handlers run
// on goroutines of their own and share its counters.
type tab struct {
	p       *Pool
	ctx     context.Context // the tab's, ended by the render's deadline
	req     Request
	page    *url.URL
	doc     response
	blocker *blocker

	mainServed atomic.Bool
	inflight   atomic.Int64 // intercepted requests not yet answered
	lastActive atomic.Int64 // unix nanoseconds of the last request start or end
	handlers   sync.WaitGroup
}

// renderTab renders the prefetched document in a new tab of b. A render
// still running well past its timeout means the browser is wedged: a
// watchdog kills it, the render fails as if it had crashed and is retried
// on the new browser.
func (p *Pool) renderTab(ctx context.Context, b *browser, r Request, u *url.URL, doc response) (Result, error) {
	watchdog := time.AfterFunc(r.Timeout+hangGrace, func() {
		p.log.Error("a render is wedged past its timeout; killing chromium", "pid", b.pid, "url", u.Redacted())
		b.kill()
	})
	defer watchdog.Stop()

	// Each render gets a browser context of its own, like an incognito
	// window: no cookie, storage or cache of one render leaks into
	// another, so renders of a page do not depend on what rendered before.
	tabCtx, closeTab := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	defer closeTab() // closes the tab and its context; chromedp bounds the wait

	if err := p.openTab(ctx, b, tabCtx); err != nil {
		return Result{}, err
	}

	// Every later step ends with the render's context. tctx must derive
	// from tabCtx, which carries the tab, so ctx ends it from outside.
	tctx, cancel := context.WithCancel(tabCtx)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()

	t := &tab{p: p, ctx: tctx, req: r, page: u, doc: doc, blocker: blockerFor(r)}
	t.touch()
	// Subscribe before Fetch.enable so that no paused request is missed,
	// and answer each on its own goroutine: a handler that called the
	// browser from the event loop would deadlock it.
	paused := chromedp.Events(tctx, fetch.RequestPaused)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for ev, err := range paused {
			if err != nil {
				return
			}
			t.begin()
			t.handlers.Add(1)
			go func() {
				defer t.handlers.Done()
				defer t.end()
				t.handle(ev)
			}()
		}
	}()
	defer func() {
		cancel()
		<-loopDone // no handler starts after this
		t.handlers.Wait()
	}()

	res, err := t.run(u)
	if err != nil {
		return Result{}, p.classify(ctx, b, err)
	}
	return res, nil
}

// openTab creates the tab on a context without a deadline, since the first
// run on a context binds the tab's life to it, and gives up when the
// render's context ends. A browser that cannot open a tab within a whole
// render timeout is suspect.
func (p *Pool) openTab(ctx context.Context, b *browser, tabCtx context.Context) error {
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(tabCtx) }() // ends when closeTab cancels tabCtx
	select {
	case err := <-opened:
		if err != nil {
			return p.classify(ctx, b, fmt.Errorf("opening a tab: %w", err))
		}
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			p.suspect(b)
		}
		return p.classify(ctx, b, fmt.Errorf("opening a tab: %w", ctx.Err()))
	}
}

// classify turns a failed step into the render's error: the pool closed,
// the browser died (retried), the render timed out, the caller went away,
// or the page itself failed.
func (p *Pool) classify(ctx context.Context, b *browser, err error) error {
	switch {
	case p.isClosed():
		return ErrClosed
	case ctx.Err() == nil && b.died(err):
		return &goneError{pid: b.pid, err: err}
	case ctx.Err() != nil:
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			p.suspect(b)
		}
		return ctxError(ctx, err)
	}
	return fmt.Errorf("%w: %w", ErrBrowser, err)
}

// touch records request activity now.
func (t *tab) touch() { t.lastActive.Store(time.Now().UnixNano()) }

// begin and end bracket an intercepted request.
func (t *tab) begin() { t.inflight.Add(1); t.touch() }
func (t *tab) end()   { t.touch(); t.inflight.Add(-1) }

// idleFor is how long no intercepted request has been in flight.
func (t *tab) idleFor() time.Duration {
	if t.inflight.Load() > 0 {
		return 0
	}
	return time.Since(time.Unix(0, t.lastActive.Load()))
}

// device is what a variant emulates.
type device struct {
	width, height int64
	scale         float64
	mobile        bool
}

var devices = map[Variant]device{
	Desktop: {width: 1366, height: 768, scale: 1},
	Mobile:  {width: 412, height: 915, scale: 2.625, mobile: true},
}

// run emulates the device, loads the page, waits until it is ready and
// takes the HTML.
func (t *tab) run(u *url.URL) (Result, error) {
	ctx := t.ctx
	d := devices[t.req.Variant]
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: d.width, Height: d.height, DeviceScaleFactor: d.scale, Mobile: d.mobile,
		ScreenWidth: d.width, ScreenHeight: d.height,
	}); err != nil {
		return Result{}, fmt.Errorf("emulating the device: %w", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: d.mobile}); err != nil {
		return Result{}, fmt.Errorf("emulating touch: %w", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
		UserAgent: userAgent(t.req.Variant), AcceptLanguage: acceptLanguage,
	}); err != nil {
		return Result{}, fmt.Errorf("setting the user agent: %w", err)
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*", RequestStage: fetch.RequestStageRequest}}}); err != nil {
		return Result{}, fmt.Errorf("intercepting requests: %w", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(u.String())); err != nil {
		var le *chromedp.LoadError
		if errors.As(err, &le) && t.doc.status >= 400 && ctx.Err() == nil {
			// Chromium shows its own error page for an error status
			// with nothing to render; the origin's answer is the page.
			return passthrough(t.doc), nil
		}
		return Result{}, fmt.Errorf("loading the page: %w", err)
	}
	if err := t.waitReady(); err != nil {
		return Result{}, err
	}
	return t.snapshot()
}

// readyJS is 1 when the page declared itself ready, 0 when it asked to be
// waited for (window.prerenderReady = false), -1 when it says nothing and
// network idle decides.
const readyJS = `typeof window.prerenderReady === 'boolean' ? (window.prerenderReady ? 1 : 0) : -1`

// waitReady waits until window.prerenderReady turns true when the page
// set it to false, else until no request has been in flight for IdleTime.
// Every request passes the interceptor, so its counters see the whole
// network. A failed check (the page navigating itself, say) is retried
// until the render's context ends.
func (t *tab) waitReady() error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		state, err := chromedp.Run(t.ctx, chromedp.Evaluate[int](readyJS))
		if err == nil && (state == 1 || (state == -1 && t.idleFor() >= t.p.opts.IdleTime)) {
			return nil
		}
		if err != nil && t.ctx.Err() == nil {
			t.p.log.Debug("readiness check failed; retrying", "err", err)
		}
		select {
		case <-t.ctx.Done():
			if err != nil {
				return fmt.Errorf("waiting for the page: %w", err)
			}
			return fmt.Errorf("waiting for the page: %w", t.ctx.Err())
		case <-tick.C:
		}
	}
}
