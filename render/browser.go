package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"
)

// launchTimeout bounds a browser start; Chromium starts in about a second.
const launchTimeout = 30 * time.Second

// browser is one Chromium process and the chromedp context that drives it.
type browser struct {
	ctx         context.Context    // done when Chromium exits or is shut down
	cancel      context.CancelFunc // kills Chromium and waits for it to be reaped
	allocCancel context.CancelFunc
	lost        <-chan struct{} // closed when the connection to Chromium drops
	pid         int
	dir         string // its user data dir

	warm    chan *tab     // tabs opened ahead of renders (keepWarm)
	pending atomic.Int32  // warm tabs being opened or ready, not yet taken (keepWarm)
	loads   *loads        // pages loading now
	retire  chan struct{} // closed when retired

	// Under Pool.mu.
	refs    int  // renders using it
	retired bool // replaced by a new browser; shut down once refs is 0

	stopOnce sync.Once
}

// disabledFeatures are Chromium features a headless renderer has no use
// for and which cost CPU or memory on every render. The list replaces
// chromedp's default (Translate, BlinkGenPropertyTrees), which it keeps.
var disabledFeatures = []string{
	"Translate", "BlinkGenPropertyTrees",
	// Every browser context's window loads the omnibox popup's WebUI
	// (chrome://omnibox-popup.top-chrome/, twice) in a renderer of its
	// own: half of Chromium's CPU per render, and 50 MiB.
	"WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup",
	// A spare renderer is started ahead of the next navigation, but for
	// the browser context that just rendered, which is disposed of: one
	// wasted process start per render.
	"SpareRendererForSitePerProcess", "MultipleSpareRPHs",
}

// launch starts a Chromium whose life is bound to a context of its own,
// never to a request's: the first Run on a context with a deadline would
// kill the browser when the deadline passes. ctx bounds the start only.
func (p *Pool) launch(ctx context.Context) (*browser, error) {
	p.mu.Lock()
	p.seq++
	dir := filepath.Join(p.dir, "chromium-"+strconv.Itoa(p.seq))
	p.mu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("render: user data dir: %w", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], // headless, no first run, no /dev/shm
		chromedp.ExecPath(p.path),
		chromedp.UserDataDir(dir),
		// The node may run as root (containers, CI), where the sandbox
		// cannot start.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("disable-features", strings.Join(disabledFeatures, ",")),
		// Background work a renderer never needs: component downloads,
		// reliability uploads, and keeping a page that navigated away
		// alive in case the user goes back.
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-back-forward-cache", true),
		// Three minutes after it starts, Chromium measures the machine's
		// class for on-device AI models in an
		// on_device_model.mojom.OnDeviceModelService utility process (47
		// MB RSS), which then stays. Naming the class (7: GPU blocked, no
		// on-device model) skips the measurement and the process.
		chromedp.Flag("optimization-guide-performance-class", "7"),
		// Every request of a tab is answered through interception. What
		// could slip past it (a service worker's fetch, a WebSocket, a
		// preconnect) goes to a proxy that does not exist, loopback
		// included, and so nowhere.
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.ModifyCmdFunc(lowPriority(p.opts.Niceness)),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	logf := func(format string, args ...any) { p.log.Debug("chromedp: " + fmt.Sprintf(format, args...)) }
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithBrowserOption(
		chromedp.WithBrowserLogf(logf), chromedp.WithBrowserErrorf(logf)))
	b := &browser{ctx: bctx, cancel: bcancel, allocCancel: acancel, dir: dir, warm: make(chan *tab), retire: make(chan struct{}), loads: newLoads()}

	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	timer := time.NewTimer(launchTimeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-started:
	case <-timer.C:
		err = errors.New("chromium did not start within " + launchTimeout.String())
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		c := chromedp.FromContext(bctx)
		if c == nil || c.Browser == nil || c.Browser.Process() == nil {
			err = errors.New("chromium started without a process")
		} else {
			b.pid = c.Browser.Process().Pid
			b.lost = c.Browser.LostConnection
		}
	}
	if err != nil {
		p.shutdown(b)
		return nil, fmt.Errorf("render: start chromium %s: %w", p.path, err)
	}
	p.log.Info("chromium started", "path", p.path, "pid", b.pid)
	return b, nil
}

// alive reports whether the browser still runs, as far as we know.
func (b *browser) alive() bool {
	select {
	case <-b.ctx.Done():
		return false
	case <-b.lost:
		return false
	default:
		return true
	}
}

// died reports whether err (from a call on one of b's tabs) means that
// the browser is gone. A connection that just dropped can surface before
// the browser's context ends, so an unexplained error waits a moment for
// the verdict.
func (b *browser) died(err error) bool {
	var exit *exec.ExitError
	if errors.As(err, &exit) || !b.alive() {
		return true
	}
	t := time.NewTimer(100 * time.Millisecond)
	defer t.Stop()
	select {
	case <-b.ctx.Done():
		return true
	case <-b.lost:
		return true
	case <-t.C:
		return false
	}
}

// kill ends a hung browser the hard way. The supervisor sees it exit and
// starts a new one.
func (b *browser) kill() {
	if b.pid > 0 {
		syscall.Kill(b.pid, syscall.SIGKILL)
	}
}

// shutdown kills the browser, waits for its process to be reaped, kills
// the child processes that outlived it, and removes its user data dir.
// It is idempotent, and concurrent calls all wait for the first.
func (p *Pool) shutdown(b *browser) {
	b.stopOnce.Do(func() {
		b.cancel()      // kills the process and waits for chromedp to reap it
		b.allocCancel() // waits for the allocator's goroutines
		killLeftovers(b.dir)
		// Chromium keeps its singleton socket in a directory of its own
		// under $TMPDIR, linked from the data dir, and removes it only on
		// a clean exit, which a killed browser never has.
		if target, err := os.Readlink(filepath.Join(b.dir, "SingletonSocket")); err == nil {
			if dir := filepath.Dir(target); strings.HasPrefix(filepath.Base(dir), "org.chromium.Chromium.") {
				os.RemoveAll(dir)
			}
		}
		if err := os.RemoveAll(b.dir); err != nil {
			p.log.Warn("removing a chromium data dir failed", "dir", b.dir, "err", err)
		}
		p.mu.Lock()
		delete(p.browsers, b)
		p.mu.Unlock()
		if b.pid > 0 {
			p.log.Info("chromium stopped", "pid", b.pid)
		}
	})
}

// killLeftovers kills the processes still started with dir as their user
// data dir. Chromium's helpers (zygote, renderers, the network service)
// can outlive a killed browser process, and each is started with the
// browser's --user-data-dir, which is unique to one browser. It looks
// again until it finds nothing a few times in a row, since a helper can
// fork as its parent dies.
func killLeftovers(dir string) {
	want := []byte("--user-data-dir=" + dir)
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); {
		if killUsing(want) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killUsing kills the processes whose command line has the argument want,
// and returns how many it found.
func killUsing(want []byte) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if bytes.Equal(arg, want) {
				syscall.Kill(pid, syscall.SIGKILL)
				n++
				break
			}
		}
	}
	return n
}
