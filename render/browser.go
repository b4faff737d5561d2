package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"
)

// launchTimeout bounds a browser start; Chromium starts in about a second.
const launchTimeout = 30 * time.Second

// browser is one Chromium process.
type browser struct {
	ctx         context.Context // ends when the browser exits or is shut down
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	pid         int
	dir         string // user data dir, removed on shutdown

	retired atomic.Bool    // replaced on purpose: not to be restarted
	active  sync.WaitGroup // renders using this browser
}

// launch starts a Chromium whose life is bound to its own context, never
// to a request's: a deadline on the first run would kill the browser.
func (p *Pool) launch(ctx context.Context) (*browser, error) {
	dir, err := os.MkdirTemp("", "rendercache-chromium-")
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(p.path),
		chromedp.UserDataDir(dir),
		// Renders run as whatever user the node runs as, root in
		// containers, where the sandbox cannot start.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("dns-prefetch-disable", true),
		// Every request is answered through interception. Anything that
		// slips past it (a WebSocket, a preconnect) goes to a proxy that
		// does not exist, and so nowhere.
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	b := &browser{ctx: bctx, cancel: bcancel, allocCancel: acancel, dir: dir}
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	select {
	case err = <-started:
	case <-time.After(launchTimeout):
		err = errors.New("chromium did not start within " + launchTimeout.String())
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		b.shutdown()
		return nil, fmt.Errorf("render: start chromium %s: %w", p.path, err)
	}
	if c := chromedp.FromContext(bctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		b.pid = c.Browser.Process().Pid
	}
	p.log.Info("chromium started", "path", p.path, "pid", b.pid)
	return b, nil
}

// shutdown stops the browser, waits for its process and removes its data.
func (b *browser) shutdown() {
	b.cancel()
	b.allocCancel()
	os.RemoveAll(b.dir)
}

// kill ends a hung browser the hard way; the watcher starts a new one.
func (b *browser) kill() {
	if b.pid > 0 {
		syscall.Kill(b.pid, syscall.SIGKILL)
	}
	b.cancel()
}

// setBrowser installs b and watches it.
func (p *Pool) setBrowser(b *browser) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		b.shutdown()
		return
	}
	p.cur = b
	close(p.changed)
	p.changed = make(chan struct{})
	p.wg.Add(1)
	p.mu.Unlock()
	go p.watch(b)
}

// watch replaces the browser when it exits, with backoff while it keeps
// failing to start.
func (p *Pool) watch(b *browser) {
	defer p.wg.Done()
	select {
	case <-b.ctx.Done():
	case <-p.stop:
		return
	}
	if b.retired.Load() {
		return // recycle shuts it down once its renders end
	}
	b.shutdown()
	p.mu.Lock()
	if p.closed || p.cur != b {
		p.mu.Unlock()
		return
	}
	p.cur = nil
	p.mu.Unlock()
	p.restarts.Add(1)
	p.log.Warn("chromium exited; starting a new one", "pid", b.pid)
	backoff := 100 * time.Millisecond
	for {
		nb, err := p.launch(context.Background())
		if err == nil {
			p.setBrowser(nb)
			return
		}
		p.log.Error("chromium restart failed", "err", err, "retry_in", backoff)
		select {
		case <-p.stop:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// browser returns the running browser, waiting while one restarts.
func (p *Pool) browser(ctx context.Context) (*browser, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		b, changed := p.cur, p.changed
		if b != nil && b.ctx.Err() == nil {
			b.active.Add(1) // the caller calls b.active.Done
			p.mu.Unlock()
			return b, nil
		}
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return nil, ErrTimeout
			}
			return nil, ctx.Err()
		case <-p.stop:
			return nil, ErrClosed
		}
	}
}
