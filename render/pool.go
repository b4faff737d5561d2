package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats counts the pool's work, for metrics. Counters only grow.
type Stats struct {
	Queued   int // renders waiting for a slot now
	Active   int // renders holding a slot now
	Renders  int // renders that got a slot
	Failures int // renders that returned an error after getting a slot
	Restarts int // browsers started again after a crash or a hang
	Retries  int // renders retried on a new browser after a crash
	Recycles int // browsers replaced for passing the memory ceiling
	Warm     int // tabs open ahead of renders now (Options.WarmTabs)
	// Stages is the time renders spent in each stage (queue, fetch,
	// open, setup, load, ready, snapshot, strip, serialise, close,
	// intercept), summed over every render: where a render's time goes.
	Stages map[string]time.Duration
}

// Pool renders pages in one shared Chromium, a tab per render. It is safe
// for concurrent use; Close releases everything it holds.
type Pool struct {
	opts    Options
	log     *slog.Logger
	path    string // the browser binary
	dir     string // holds each browser's user data dir; removed by Close
	slots   *slots
	fetcher *fetcher

	stopCtx context.Context // done once Close starts
	stop    context.CancelFunc

	mu       sync.Mutex
	cur      *browser              // nil while a new one starts
	changed  chan struct{}         // closed and replaced whenever cur changes
	browsers map[*browser]struct{} // every browser not yet shut down
	closed   bool
	seq      int // browsers started

	suspects   chan *browser // browsers a render found unresponsive; see probe
	recycleNow chan struct{} // asks the supervisor for a new browser (tests)

	renders, failures, restarts, retries, recycles atomic.Int64
	avgNanos                                       atomic.Int64 // moving average of render durations
	stages                                         stageClock
	warmTabs                                       atomic.Int64
	waits                                          *prometheus.HistogramVec // time to a slot, by priority

	wg        sync.WaitGroup // renders, the supervisor and retiring browsers
	closeOnce sync.Once
}

// New starts Chromium and returns the pool. It fails with a clear error
// when no browser can be found or started, so a node without Chromium
// says so when it starts rather than on its first render. ctx bounds the
// start only; the browser lives until Close.
func New(ctx context.Context, o Options) (*Pool, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	path, err := findChrome(o.ChromePath)
	if err != nil {
		return nil, err
	}
	dir, err := newWorkDir(o.Logger)
	if err != nil {
		return nil, err
	}
	p := &Pool{
		opts:       o,
		log:        o.Logger,
		path:       path,
		dir:        dir,
		slots:      newSlots(o.Concurrency, o.QueueSize, o.DomainQueueSize),
		fetcher:    newFetcher(o.Policy, o.MaxBody),
		changed:    make(chan struct{}),
		browsers:   map[*browser]struct{}{},
		suspects:   make(chan *browser, 1),
		recycleNow: make(chan struct{}, 1),
		waits:      newWaitHistogram(),
	}
	p.slots.observe = p.observeWait
	p.stopCtx, p.stop = context.WithCancel(context.Background())
	b, err := p.launch(ctx)
	if err != nil {
		p.stop()
		os.RemoveAll(dir)
		return nil, err
	}
	p.install(b)
	p.wg.Add(1)
	go p.supervise()
	return p, nil
}

// Render renders one page. It waits for a slot in priority order (or
// fails at once with ErrQueueFull), fetches the document, and renders it
// in a new tab unless it is a redirect or not HTML, which are passed
// through. A browser crash during the render is retried once on the new
// browser. Errors carry an errkind: Invalid for a bad request,
// Unavailable for the rest (ErrTimeout, ErrOrigin, ErrQueueFull,
// ErrClosed, ErrBrowser), except ctx's own errors, which are wrapped.
func (p *Pool) Render(ctx context.Context, r Request) (Result, error) {
	u, err := r.check(p.opts.Timeout)
	if err != nil {
		return Result{}, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Result{}, ErrClosed
	}
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()

	domain := r.Domain
	if domain == "" {
		domain = u.Hostname()
	}
	queued := time.Now()
	if err := p.slots.acquire(ctx, r.Priority, domain); err != nil {
		if errors.Is(err, ErrQueueFull) {
			return Result{}, p.queueFull()
		}
		return Result{}, fmt.Errorf("render %s: waiting for a slot: %w", u.Redacted(), err)
	}
	defer p.slots.release(domain)

	start := p.stages.since(stageQueue, queued)
	p.renders.Add(1)
	res, err := p.render(ctx, u, r)
	if err != nil {
		p.failures.Add(1)
		return Result{}, fmt.Errorf("render %s: %w", u.Redacted(), err)
	}
	res.Duration = time.Since(start)
	p.observe(res.Duration)
	return res, nil
}

// render fetches the document once, then renders it, retrying once on a
// new browser when the browser dies under the first attempt. Each attempt
// has the full timeout; the document fetch shares the first one's.
func (p *Pool) render(ctx context.Context, u *url.URL, r Request) (Result, error) {
	// Close interrupts the document fetch and both attempts, instead of
	// waiting out the render's timeout.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(p.stopCtx, stop)()
	actx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	fetchStart := time.Now()
	doc, err := p.fetcher.document(actx, u.String(), r.Variant)
	p.stages.since(stageFetch, fetchStart)
	if err != nil {
		if p.isClosed() {
			return Result{}, ErrClosed
		}
		return Result{}, fmt.Errorf("fetching the document: %w", ctxError(actx, err))
	}
	if isRedirect(doc.status) || !isHTML(doc) {
		return passthrough(doc), nil
	}
	var last *browser
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			cancel()
			actx, cancel = context.WithTimeout(ctx, r.Timeout)
			defer cancel()
		}
		res, b, err := p.attempt(actx, last, r, u, doc)
		var gone *goneError
		switch {
		case err == nil:
			return res, nil
		case !errors.As(err, &gone):
			return Result{}, err
		case p.isClosed():
			return Result{}, ErrClosed
		case attempt == 1 && ctx.Err() == nil:
			p.retries.Add(1)
			p.log.Info("the browser exited during a render; retrying once on a new one", "url", u.Redacted(), "pid", b.pid)
			last = b
		default:
			return Result{}, fmt.Errorf("%w: the browser exited during the render and again during its retry: %w", ErrBrowser, err)
		}
	}
}

// attempt renders doc on the running browser (waiting for one that is not
// last while the browser restarts) and returns the browser it used.
func (p *Pool) attempt(ctx context.Context, last *browser, r Request, u *url.URL, doc response) (Result, *browser, error) {
	b, err := p.acquireBrowser(ctx, last)
	if err != nil {
		return Result{}, nil, err
	}
	defer p.releaseBrowser(b)
	res, err := p.renderTab(ctx, b, r, u, doc)
	return res, b, err
}

// ctxError turns a failure under ctx into the render's error: ErrTimeout
// when a deadline passed (which also wraps context.DeadlineExceeded), the
// context's error when the caller gave up, else err.
func ctxError(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

// observe feeds a render's duration into the moving average that sizes
// Retry-After.
func (p *Pool) observe(d time.Duration) {
	for {
		old := p.avgNanos.Load()
		next := int64(d)
		if old > 0 {
			next = old + (int64(d)-old)/8
		}
		if p.avgNanos.CompareAndSwap(old, next) {
			return
		}
	}
}

// queueFull returns ErrQueueFull with a Retry-After of about how long the
// queue takes to drain, between 1 and 60 seconds.
func (p *Pool) queueFull() error {
	avg := time.Duration(p.avgNanos.Load())
	if avg <= 0 {
		avg = 2 * time.Second
	}
	queued, _ := p.slots.counts()
	drain := avg.Seconds() * float64(queued+1) / float64(p.opts.Concurrency)
	e := *ErrQueueFull
	e.RetryAfter = int(min(60, max(1, math.Ceil(drain))))
	return &e
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	q, a := p.slots.counts()
	return Stats{
		Queued: q, Active: a,
		Renders: int(p.renders.Load()), Failures: int(p.failures.Load()),
		Restarts: int(p.restarts.Load()), Retries: int(p.retries.Load()), Recycles: int(p.recycles.Load()),
		Warm:   int(p.warmTabs.Load()),
		Stages: p.stages.totals(),
	}
}

// BrowserPID returns the process ID of the running browser, or 0 while a
// new one starts. Tests kill it to check recovery.
func (p *Pool) BrowserPID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return 0
	}
	return p.cur.pid
}

// Close fails queued renders and those in flight (with ErrClosed), kills
// every browser and waits for its processes, removes the user data
// directories, and returns once no goroutine of the pool is left. It is
// idempotent; concurrent calls all wait for the first.
func (p *Pool) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.stop()
		browsers := make([]*browser, 0, len(p.browsers))
		for b := range p.browsers {
			browsers = append(browsers, b)
		}
		p.mu.Unlock()

		p.slots.close()
		for _, b := range browsers {
			p.shutdown(b)
		}
		p.wg.Wait()
		p.fetcher.close()
		if err := os.RemoveAll(p.dir); err != nil {
			p.log.Warn("removing chromium's data dir failed", "dir", p.dir, "err", err)
		}
	})
	return nil
}

// isClosed reports whether Close has started.
func (p *Pool) isClosed() bool { return p.stopCtx.Err() != nil }
