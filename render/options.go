package render

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/rendercache/rendercache/errkind"
	"github.com/rendercache/rendercache/origin"
)

// Priority orders renders waiting for a slot.
type Priority int

// Priorities, most urgent first.
const (
	Live       Priority = iota // a crawler is waiting for this page: served first
	Background                 // refresh and warm-up jobs: wait behind live ones
)

// Variant is the device a page is rendered for. Crawlers index mobile and
// desktop pages separately, so each has its own cache entry.
type Variant string

// Variants.
const (
	Desktop Variant = "desktop" // a 1366x768 desktop Chrome
	Mobile  Variant = "mobile"  // a phone-sized touch screen with a mobile Chrome
)

// Request asks for one page.
type Request struct {
	// URL is the absolute http(s) URL of the page on the domain's origin,
	// such as "http://127.0.0.1:4567/path?q=1".
	URL string
	// Variant defaults to Desktop.
	Variant  Variant
	Priority Priority
	// Block lists extra URL patterns to refuse (the domain's own config),
	// on top of DefaultBlocklist: substrings of the whole URL, where "*"
	// matches any run of characters.
	Block []string
	// AllowResources lets images, media and fonts load; by default they
	// are refused, since crawlers read HTML.
	AllowResources bool
	// Timeout overrides Options.Timeout for this render when positive.
	Timeout time.Duration
}

// Result is a rendered page, or the origin's answer passed through.
type Result struct {
	// Status is the main document's status, after a
	// <meta name="prerender-status-code"> override.
	Status int
	// Header holds Content-Type, Location for a passed-through redirect,
	// and the headers the page set with <meta name="prerender-header">.
	Header http.Header
	// Body is the rendered HTML (scripts stripped), or the origin's body
	// when Rendered is false.
	Body []byte
	// Rendered is false when the origin's answer was passed through
	// without Chromium: a redirect (3xx), or a body that is not HTML.
	Rendered bool
	// Duration is how long the render took once it had a slot.
	Duration time.Duration
}

// Options configure a Pool. The zero value is usable: every field has a
// default, and the zero Policy is the strict one (public addresses only).
type Options struct {
	// ChromePath is the browser binary. Default: the first of chromium,
	// chromium-browser, google-chrome and google-chrome-stable on PATH.
	ChromePath string
	// Concurrency bounds renders at once (tabs open). Default
	// runtime.NumCPU().
	Concurrency int
	// QueueSize bounds renders waiting for a slot; past it Render fails at
	// once with ErrQueueFull. Default 64 per slot.
	QueueSize int
	// Timeout caps one render attempt (queueing excluded). Default 20s.
	Timeout time.Duration
	// IdleTime is how long no request may be in flight for a page to
	// count as loaded. Default 500ms.
	IdleTime time.Duration
	// MaxBody caps every fetched body. Default 10 MiB.
	MaxBody int64
	// MemoryLimit is the browser's memory ceiling in bytes (the
	// proportional set size of all its processes); past it the browser is
	// replaced between renders. Default 2 GiB; negative disables it.
	MemoryLimit int64
	// MemoryCheck is how often the ceiling is checked. Default 15s.
	MemoryCheck time.Duration
	// Policy decides which addresses the document and every subrequest
	// may reach.
	Policy origin.Policy
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// withDefaults returns o with every unset field at its default, or an
// error that says which field is wrong.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Concurrency < 0:
		return o, fmt.Errorf("render: Concurrency %d is negative", o.Concurrency)
	case o.QueueSize < 0:
		return o, fmt.Errorf("render: QueueSize %d is negative", o.QueueSize)
	case o.Timeout < 0 || o.IdleTime < 0 || o.MemoryCheck < 0:
		return o, errors.New("render: Timeout, IdleTime and MemoryCheck must not be negative")
	case o.MaxBody < 0:
		return o, fmt.Errorf("render: MaxBody %d is negative", o.MaxBody)
	}
	if o.Concurrency == 0 {
		o.Concurrency = runtime.NumCPU()
	}
	if o.QueueSize == 0 {
		o.QueueSize = 64 * o.Concurrency
	}
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	if o.IdleTime == 0 {
		o.IdleTime = 500 * time.Millisecond
	}
	if o.MaxBody == 0 {
		o.MaxBody = 10 << 20
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = 2 << 30
	}
	if o.MemoryCheck == 0 {
		o.MemoryCheck = 15 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// chromeNames are looked up on PATH when Options.ChromePath is empty.
var chromeNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findChrome resolves the browser binary, failing with an error that says
// how to install one: a node without a browser must not start.
func findChrome(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("render: chromium not found at %q (--chrome-path): %w", path, err)
		}
		return p, nil
	}
	for _, c := range chromeNames {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("render: chromium not found on PATH (looked for %s); install Debian's chromium package (make deps) or pass --chrome-path", strings.Join(chromeNames, ", "))
}

// check validates r and fills in its defaults.
func (r *Request) check(defaultTimeout time.Duration) (*url.URL, error) {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("render %q: %w", r.URL, ErrBadURL)
	}
	switch r.Variant {
	case "":
		r.Variant = Desktop
	case Desktop, Mobile:
	default:
		return nil, fmt.Errorf("render %q: variant %q: %w", r.URL, r.Variant, ErrBadRequest)
	}
	if r.Priority != Live && r.Priority != Background {
		return nil, fmt.Errorf("render %q: priority %d: %w", r.URL, r.Priority, ErrBadRequest)
	}
	if r.Timeout <= 0 {
		r.Timeout = defaultTimeout
	}
	u.Fragment, u.RawFragment = "", "" // never sent to the origin
	return u, nil
}

var (
	// ErrQueueFull is returned at once when the wait queue is full. The
	// error returned carries a RetryAfter estimated from the queue; it
	// matches this sentinel under errors.Is.
	ErrQueueFull = &errkind.Error{Kind: errkind.Unavailable, Message: "render queue full", RetryAfter: 5}
	// ErrTimeout means the page was not ready in time. Such a render is
	// never a page to cache as 200.
	ErrTimeout = errkind.New(errkind.Unavailable, "render timed out")
	// ErrClosed is returned by a pool that is shutting down.
	ErrClosed = errkind.New(errkind.Unavailable, "renderer is shutting down")
	// ErrBadURL refuses URLs that are not absolute http or https URLs.
	ErrBadURL = errkind.New(errkind.Invalid, "render URL must be an absolute http or https URL")
	// ErrBadRequest refuses an unknown variant or priority.
	ErrBadRequest = errkind.New(errkind.Invalid, "render request has an unknown variant or priority")
	// ErrOrigin means the origin's document could not be fetched: a
	// refused address (the error then also wraps origin.ErrBlockedAddr),
	// a failed connection, or an oversized body.
	ErrOrigin = errkind.New(errkind.Unavailable, "the origin could not be fetched")
	// ErrBrowser means the browser failed the render: it exited twice in
	// a row, or the page's tab broke.
	ErrBrowser = errkind.New(errkind.Unavailable, "the browser failed to render the page")
)
