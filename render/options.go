package render

import (
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/rendercache/rendercache/origin"
)

// Options configure a Pool. The zero value is usable: every field has a
// default, and the zero Policy is the strict one (public addresses only).
// DefaultMemoryLimit is the browser's memory ceiling unless Options or
// the node's flag say otherwise: room for a dozen heavy tabs.
const DefaultMemoryLimit = 2 << 30

type Options struct {
	// ChromePath is the browser binary. Default: the first of chromium,
	// chromium-browser, google-chrome and google-chrome-stable on PATH.
	ChromePath string
	// Concurrency bounds renders at once (tabs open). Default
	// runtime.NumCPU().
	Concurrency int
	// QueueSize bounds renders waiting for a slot; past it Render fails at
	// once with ErrQueueFull. Background renders may fill three quarters
	// of it; the rest is kept for Live ones. Default 64 per slot.
	QueueSize int
	// DomainQueueSize bounds the renders of one domain (Request.Domain)
	// waiting at one priority, so that one domain's burst leaves room in
	// the queue for others; past it that domain's renders fail at once
	// with ErrQueueFull. Default half of QueueSize.
	DomainQueueSize int
	// Timeout caps one render attempt (queueing excluded). Default 20s.
	Timeout time.Duration
	// IdleTime is how long no request may be in flight for a page to
	// count as loaded. Default 500ms.
	IdleTime time.Duration
	// WarmTabs is how many tabs each browser keeps open ahead of renders,
	// each in a browser context of its own, so that a render only
	// navigates: opening a tab costs tens of milliseconds of browser CPU,
	// hundreds when the machine is busy. A tab is opened again once its
	// render's page has loaded, so two keep one ready even for renders
	// back to back. Each costs a renderer process showing a blank page.
	// Default 2; negative opens every tab when its render starts.
	WarmTabs int
	// MaxBody caps every fetched body. Default 10 MiB.
	MaxBody int64
	// MemoryLimit is the browser's memory ceiling in bytes (the
	// proportional set size of all its processes); past it the browser is
	// replaced between renders. Default DefaultMemoryLimit; negative
	// disables it.
	MemoryLimit int64
	// MemoryCheck is how often the ceiling is checked. Default 15s.
	MemoryCheck time.Duration
	// Niceness lowers Chromium's CPU priority by this nice(1) increment
	// (1..19), so the node's raft and gossip keep their deadlines while
	// renders saturate the CPU. Default DefaultNiceness; negative runs
	// Chromium at the node's priority.
	Niceness int
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
	case o.DomainQueueSize < 0:
		return o, fmt.Errorf("render: DomainQueueSize %d is negative", o.DomainQueueSize)
	case o.Timeout < 0 || o.IdleTime < 0 || o.MemoryCheck < 0:
		return o, errors.New("render: Timeout, IdleTime and MemoryCheck must not be negative")
	case o.MaxBody < 0:
		return o, fmt.Errorf("render: MaxBody %d is negative", o.MaxBody)
	}
	if o.Niceness > 19 {
		return o, fmt.Errorf("render: Niceness %d is above 19", o.Niceness)
	}
	if o.Niceness == 0 {
		o.Niceness = DefaultNiceness
	}
	if o.Concurrency == 0 {
		o.Concurrency = runtime.NumCPU()
	}
	if o.WarmTabs == 0 {
		o.WarmTabs = 2
	}
	o.WarmTabs = max(0, o.WarmTabs)
	if o.QueueSize == 0 {
		o.QueueSize = 64 * o.Concurrency
	}
	if o.DomainQueueSize == 0 {
		o.DomainQueueSize = max(1, o.QueueSize/2)
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
		o.MemoryLimit = DefaultMemoryLimit
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
