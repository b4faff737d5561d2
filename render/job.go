package render

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// readyPoll is how often readiness is checked when no event says so
// sooner: the page's prerenderReady hook and the end of its network
// activity wake the check at once.
const readyPoll = 100 * time.Millisecond

// goneError means the browser died under a render; the pool retries once.
type goneError struct {
	pid int
	err error
}

func (e *goneError) Error() string {
	return fmt.Sprintf("chromium (pid %d) exited during the render: %v", e.pid, e.err)
}
func (e *goneError) Unwrap() error { return e.err }

// job is one render on a tab. Its request handlers run on goroutines of
// their own and share its counters.
type job struct {
	p       *Pool
	t       *tab
	ctx     context.Context // the tab's, ended by the render's deadline or finish
	cancel  context.CancelFunc
	req     Request
	page    *url.URL
	doc     response
	blocker *blocker

	mainServed atomic.Bool
	inflight   atomic.Int64  // intercepted requests not yet answered
	lastActive atomic.Int64  // unix nanoseconds of the last request start or end
	quiet      chan struct{} // a value when the last request in flight ends

	mu       sync.Mutex
	finished bool           // no handler starts once set
	handlers sync.WaitGroup // handlers started; waited for when the tab closes
}

// renderTab renders the prefetched document on a tab of b: a warm one
// when b has one ready, else one opened now. The tab is closed after the
// render, off its path. A render still running well past its timeout
// means the browser is wedged: a watchdog kills it, and the render fails
// as if it had crashed and is retried on the new browser.
func (p *Pool) renderTab(ctx context.Context, b *browser, r Request, u *url.URL, doc response) (Result, error) {
	watchdog := time.AfterFunc(r.Timeout+hangGrace, func() {
		p.log.Error("a render is wedged past its timeout; killing chromium", "pid", b.pid, "url", u.Redacted())
		b.kill()
	})
	defer watchdog.Stop()

	start := time.Now()
	t, err := p.takeTab(ctx, b)
	if err != nil {
		return Result{}, err
	}
	start = p.stages.since(stageOpen, start)

	// Every step ends with the render's context. jctx must derive from
	// the tab's context, which carries the target, so ctx ends it from
	// outside.
	jctx, cancel := context.WithCancel(t.ctx)
	defer context.AfterFunc(ctx, cancel)()
	j := &job{p: p, t: t, ctx: jctx, cancel: cancel, req: r, page: u, doc: doc, blocker: blockerFor(r), quiet: make(chan struct{}, 1)}
	j.touch()
	t.job.Store(j)
	defer p.discard(t)

	if err := t.emulate(r.Variant); err != nil {
		return Result{}, p.classify(ctx, b, err)
	}
	p.stages.since(stageSetup, start)
	res, err := j.run(u)
	if err != nil {
		return Result{}, p.classify(ctx, b, err)
	}
	return res, nil
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

// start brackets the beginning of an intercepted request; it is false
// once the job finished, and the request must then be refused without a
// handler.
func (j *job) start() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.finished {
		return false
	}
	j.handlers.Add(1)
	j.inflight.Add(1)
	j.touch()
	return true
}

// end brackets the end of an intercepted request.
func (j *job) end() {
	j.touch()
	if j.inflight.Add(-1) == 0 {
		select {
		case j.quiet <- struct{}{}:
		default:
		}
	}
	j.handlers.Done()
}

// finish ends the job: requests still in flight are abandoned and new
// ones refused.
func (j *job) finish() {
	j.mu.Lock()
	j.finished = true
	j.mu.Unlock()
	j.cancel()
}

// touch records request activity now.
func (j *job) touch() { j.lastActive.Store(time.Now().UnixNano()) }

// idleFor is how long no intercepted request has been in flight.
func (j *job) idleFor() time.Duration {
	if j.inflight.Load() > 0 {
		return 0
	}
	return time.Since(time.Unix(0, j.lastActive.Load()))
}

// run loads the page, waits until it is ready and takes the HTML.
func (j *job) run(u *url.URL) (Result, error) {
	clock := &j.p.stages
	start := time.Now()
	if err := j.navigate(u.String()); err != nil {
		var le *chromedp.LoadError
		if errors.As(err, &le) && j.doc.status >= 400 && j.ctx.Err() == nil {
			// Chromium shows its own error page for an error status
			// with nothing to render; the origin's answer is the page.
			return passthrough(j.doc), nil
		}
		return Result{}, fmt.Errorf("loading the page: %w", err)
	}
	start = clock.since(stageLoad, start)
	j.t.settle()
	if err := j.waitReady(); err != nil {
		return Result{}, err
	}
	start = clock.since(stageReady, start)
	res, err := j.snapshot()
	clock.since(stageSnapshot, start)
	return res, err
}

// navigate loads u in the tab and waits for its load event. It listens
// for that event alone: chromedp.Navigate also follows the Network
// domain's events, which the tab does not enable, and took three times as
// long to notice the load.
func (j *job) navigate(u string) error {
	j.t.b.loads.start()
	defer j.t.b.loads.done()
	ctx, cancel := context.WithCancel(j.ctx)
	defer cancel()
	loaded := chromedp.Events(ctx, page.LoadEventFired) // subscribed from here on
	res, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: u})
	if err != nil {
		return err
	}
	if res.ErrorText != "" {
		return &chromedp.LoadError{ErrorText: res.ErrorText}
	}
	for _, err := range loaded {
		return err // nil for the load event, else why waiting stopped
	}
	return fmt.Errorf("the tab closed before the page loaded: %w", chromedp.ErrTargetDetached)
}

// settleJS resolves once the page's event loop has run the tasks queued
// before it. A response the page received long ago may still wait for its
// script to run when Chromium is short of CPU (it runs below the node's
// priority): network idle alone would then snapshot the page before that
// script wrote its content.
const settleJS = `new Promise(r => setTimeout(() => r(1), 0))`

// settled lets the page's queued tasks run, then reports whether the
// network is still idle: those tasks may have started new requests, which
// open a new idle window.
func (j *job) settled() bool {
	if _, err := chromedp.Run(j.ctx, chromedp.Evaluate[int](settleJS, chromedp.EvalAwaitPromise)); err != nil {
		return false
	}
	return j.inflight.Load() == 0 && j.idleFor() >= j.p.opts.IdleTime
}

// readyJS is 1 when the page declared itself ready, 0 when it asked to be
// waited for (window.prerenderReady = false), -1 when it says nothing and
// network idle decides.
const readyJS = `typeof window.prerenderReady === 'boolean' ? (window.prerenderReady ? 1 : 0) : -1`

// waitReady waits, once the page has loaded, until window.prerenderReady
// turns true when the page set it to false, else until no request has
// been in flight for IdleTime. Every request passes the interceptor, so
// its counters see the whole network. The check runs when the page sets
// prerenderReady to true (readyHookJS), when its last request ends, when
// the idle window would be over, and every readyPoll in any case. A
// failed check (the page navigating itself, say) is retried until the
// render's context ends.
func (j *job) waitReady() error {
	idle := j.p.opts.IdleTime
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		state, err := chromedp.Run(j.ctx, chromedp.Evaluate[int](readyJS))
		next := readyPoll
		if err == nil {
			switch {
			case state == 1:
				return nil
			case state == -1:
				d := j.idleFor()
				if d >= idle && j.settled() {
					return nil
				}
				if j.inflight.Load() == 0 {
					next = min(next, idle-d)
				}
			}
		} else if j.ctx.Err() == nil {
			j.p.log.Debug("readiness check failed; retrying", "err", err)
		}
		poll.Reset(next)
		select {
		case <-j.ctx.Done():
			if err != nil {
				return fmt.Errorf("waiting for the page: %w", err)
			}
			return fmt.Errorf("waiting for the page: %w", j.ctx.Err())
		case <-j.t.readyCh:
		case <-j.quiet:
		case <-poll.C:
		}
	}
}
