package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rendercache/rendercache/errkind"
	"github.com/rendercache/rendercache/origin"
)

// Priority orders renders waiting for a slot.
type Priority int

// Priorities, most urgent first.
const (
	Live       Priority = iota // a crawler is waiting for this page
	Background                 // refresh and warm-up jobs
)

// Variant is the device a page is rendered for. Crawlers index mobile and
// desktop pages separately, so each has its own cache entry.
type Variant string

// Variants.
const (
	Desktop Variant = "desktop"
	Mobile  Variant = "mobile"
)

// Request asks for one page.
type Request struct {
	// URL is the absolute http(s) URL on the domain's origin.
	URL      string
	Variant  Variant
	Priority Priority
	// Block lists extra URL patterns (substrings, "*" wildcards) to refuse,
	// on top of DefaultBlocklist.
	Block []string
	// AllowResources lets images, media and fonts load; by default they
	// are refused, since crawlers read HTML.
	AllowResources bool
	// Timeout overrides the pool's per-render timeout when positive.
	Timeout time.Duration
}

// Result is a rendered page, or the origin's answer passed through.
type Result struct {
	// Status is the main document's status, after a
	// <meta name="prerender-status-code"> override.
	Status int
	// Header holds Content-Type, Location for redirects, and headers the
	// page set with <meta name="prerender-header">.
	Header http.Header
	Body   []byte
	// Rendered is false when the origin's answer was passed through
	// without Chromium: a redirect, or a body that is not HTML.
	Rendered bool
	Duration time.Duration
}

// Options configure a Pool.
type Options struct {
	// ChromePath is the browser binary; "" looks for chromium,
	// chromium-browser, google-chrome and google-chrome-stable on PATH.
	ChromePath string
	// Concurrency bounds renders at once; default runtime.NumCPU().
	Concurrency int
	// QueueSize bounds renders waiting for a slot; default 64 per slot.
	QueueSize int
	// Timeout caps one render (queueing excluded); default 20s.
	Timeout time.Duration
	// IdleTime is how long the network must be quiet for a page to count
	// as loaded; default 500ms.
	IdleTime time.Duration
	// MaxBody caps every fetched body; default 10 MiB.
	MaxBody int64
	// MemoryLimit is the browser's memory ceiling in bytes (PSS of all
	// its processes); past it the browser is replaced. Default 2 GiB;
	// negative disables.
	MemoryLimit int64
	// MemoryCheck is how often the ceiling is checked; default 15s.
	MemoryCheck time.Duration
	// Policy decides which addresses renders may reach.
	Policy origin.Policy
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

var (
	// ErrQueueFull is returned at once when the wait queue is full.
	ErrQueueFull = &errkind.Error{Kind: errkind.Unavailable, Message: "render queue full", RetryAfter: 5}
	// ErrTimeout means the page was not ready in time; such a render is
	// never cached as a good page.
	ErrTimeout = errkind.New(errkind.Unavailable, "render timed out")
	// ErrClosed is returned by a pool that is shutting down.
	ErrClosed = errkind.New(errkind.Unavailable, "renderer is shutting down")
	// ErrBadURL refuses URLs that are not absolute http(s) URLs.
	ErrBadURL = errkind.New(errkind.Invalid, "render URL must be an absolute http or https URL")
	// ErrOrigin means the origin could not be fetched (refused address,
	// connection failure, oversized body).
	ErrOrigin = errkind.New(errkind.Unavailable, "the origin could not be fetched")
	// errBrowserGone means the browser died during the render; the pool
	// retries once.
	errBrowserGone = errors.New("render: browser exited during the render")
)

// Stats counts the pool's work, for metrics.
type Stats struct {
	Queued, Active                       int
	Renders, Failures, Restarts, Retries int64
	// Recycles counts browsers replaced for passing the memory ceiling.
	Recycles int64
}

// Pool renders pages in one shared Chromium. Safe for concurrent use.
type Pool struct {
	opts    Options
	log     *slog.Logger
	path    string
	slots   *slots
	fetcher *fetcher

	mu      sync.Mutex
	cur     *browser
	changed chan struct{} // closed and replaced whenever cur changes
	closed  bool

	renders, failures, restarts, retries, recycles atomic.Int64

	wg   sync.WaitGroup // renders in flight and the browser watcher
	stop chan struct{}  // closed by Close
}

// New starts Chromium and returns the pool. It fails when no browser can
// be found or started, so a node without Chromium says so at start.
func New(ctx context.Context, o Options) (*Pool, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.NumCPU()
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 64 * o.Concurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.IdleTime <= 0 {
		o.IdleTime = 500 * time.Millisecond
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 10 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = 2 << 30
	}
	if o.MemoryCheck <= 0 {
		o.MemoryCheck = 15 * time.Second
	}
	path, err := findChrome(o.ChromePath)
	if err != nil {
		return nil, err
	}
	p := &Pool{
		opts:    o,
		log:     o.Logger,
		path:    path,
		slots:   newSlots(o.Concurrency, o.QueueSize),
		fetcher: newFetcher(o.Policy, o.MaxBody),
		changed: make(chan struct{}),
		stop:    make(chan struct{}),
	}
	b, err := p.launch(ctx)
	if err != nil {
		return nil, err
	}
	p.setBrowser(b)
	if o.MemoryLimit > 0 {
		p.wg.Add(1)
		go p.monitor()
	}
	return p, nil
}

// rootCtx is the context browsers are started under: they outlive every
// request.
func (p *Pool) rootCtx() context.Context { return context.Background() }

// findChrome resolves the browser binary.
func findChrome(path string) (string, error) {
	candidates := []string{path}
	if path == "" {
		candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	if path != "" {
		return "", fmt.Errorf("render: chromium not found at %q (--chrome-path)", path)
	}
	return "", errors.New("render: chromium not found on PATH; install Debian's chromium package (make deps) or pass --chrome-path")
}

// Render renders one page. It waits for a slot in priority order, then
// fetches the document and renders it in a new tab. A browser crash during
// the render is retried once on the restarted browser.
func (p *Pool) Render(ctx context.Context, r Request) (Result, error) {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, ErrBadURL
	}
	if r.Variant == "" {
		r.Variant = Desktop
	}
	if r.Timeout <= 0 {
		r.Timeout = p.opts.Timeout
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Result{}, ErrClosed
	}
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()

	if err := p.slots.acquire(ctx, r.Priority); err != nil {
		return Result{}, err
	}
	defer p.slots.release()

	start := time.Now()
	p.renders.Add(1)
	res, err := p.renderOnce(ctx, u, r)
	if errors.Is(err, errBrowserGone) && ctx.Err() == nil {
		p.retries.Add(1)
		p.log.Info("browser exited during a render; retrying once", "url", r.URL)
		res, err = p.renderOnce(ctx, u, r)
	}
	if err != nil {
		p.failures.Add(1)
		if errors.Is(err, errBrowserGone) {
			err = fmt.Errorf("%w: %w", errkind.New(errkind.Unavailable, "render failed: the browser exited twice"), err)
		}
		return Result{}, err
	}
	res.Duration = time.Since(start)
	return res, nil
}

// renderOnce runs one attempt: fetch the document, then render it unless
// it is a redirect or not HTML.
func (p *Pool) renderOnce(ctx context.Context, u *url.URL, r Request) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	doc, err := p.fetcher.document(ctx, u.String(), userAgent(r.Variant))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return Result{}, ErrTimeout
		}
		return Result{}, err
	}
	if isRedirect(doc.status) || !isHTML(doc) {
		h := http.Header{}
		for _, k := range []string{"Content-Type", "Location"} {
			if v := doc.header.Get(k); v != "" {
				h.Set(k, v)
			}
		}
		return Result{Status: doc.status, Header: h, Body: doc.body}, nil
	}
	b, err := p.browser(ctx)
	if err != nil {
		return Result{}, err
	}
	defer b.active.Done()
	return p.renderTab(ctx, b, r, doc)
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	q, a := p.slots.counts()
	return Stats{Queued: q, Active: a, Renders: p.renders.Load(), Failures: p.failures.Load(), Restarts: p.restarts.Load(), Retries: p.retries.Load(), Recycles: p.recycles.Load()}
}

// BrowserPID returns the running browser's process ID, or 0.
func (p *Pool) BrowserPID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return 0
	}
	return p.cur.pid
}

// Close fails queued renders, waits for those in flight, and stops the
// browser, waiting for its process to exit. Idempotent.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.stop)
	b := p.cur
	p.mu.Unlock()
	p.slots.close()
	if b != nil {
		b.shutdown()
	}
	p.wg.Wait()
	p.fetcher.close()
	return nil
}
