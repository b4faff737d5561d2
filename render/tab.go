package render

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// closeTimeout bounds the calls that close a tab after its render.
const closeTimeout = 5 * time.Second

// tab is a page in a browser context of its own (like an incognito
// window: no cookie, storage or cache of one render leaks into another),
// attached and made ready to navigate: device emulation set, requests
// intercepted, and the prerenderReady hook installed. A tab serves one
// render, then is closed with its context.
//
// Opening a tab costs a browser context, a window and a renderer process
// (tens of milliseconds of CPU and a dozen protocol round trips), so each
// browser keeps a few tabs open ahead of renders (Options.WarmTabs); a
// render takes one and only navigates.
type tab struct {
	p      *Pool
	b      *browser
	ctx    context.Context    // the target's chromedp context
	cancel context.CancelFunc // detaches from the target, leaving it open
	id     cdp.BrowserContextID
	device Variant // what is emulated now

	job      atomic.Pointer[job] // the render using the tab; nil before
	settled  chan struct{}       // closed once its page loaded, or it closed
	settle   func()              // closes settled once
	readyCh  chan struct{}       // a value when the page sets prerenderReady = true
	loopDone chan struct{}       // closed when the event loops end; nil if they never started
	loops    sync.WaitGroup
}

// readyBinding is the function the page calls, through readyHookJS, when
// it sets window.prerenderReady = true.
const readyBinding = "__rendercacheReady"

// readyHookJS runs in every new document of the tab before the page's own
// scripts. It turns window.prerenderReady into an accessor that reports
// the moment the page sets it to true, so that a render stops waiting at
// once instead of at its next poll. Reads see what the page wrote; the
// poll in waitReady remains the judge, so a page that replaces the
// property still works.
const readyHookJS = `(() => {
  if (window !== window.top) return;
  const notify = globalThis.` + readyBinding + `;
  if (typeof notify !== 'function') return;
  let value;
  try {
    Object.defineProperty(window, 'prerenderReady', {
      configurable: true, enumerable: true,
      get() { return value; },
      set(v) { value = v; if (v === true) notify(''); },
    });
  } catch (e) {}
})()`

// openTab opens a tab on b. The tab is created on a context without a
// deadline, since the first run on a chromedp context binds the tab's
// life to that context; ctx bounds the wait. A browser that cannot open a
// tab within a whole render timeout is suspect.
func (p *Pool) openTab(ctx context.Context, b *browser) (*tab, error) {
	tctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithDetachOnCancel())
	t := &tab{p: p, b: b, ctx: tctx, cancel: cancel, readyCh: make(chan struct{}, 1), settled: make(chan struct{})}
	t.settle = sync.OnceFunc(func() { close(t.settled) })
	opened := make(chan error, 1)
	p.wg.Add(1) // the caller's render or warmer holds the count above 0
	go func() {
		defer p.wg.Done()
		opened <- t.prepare()
	}()
	select {
	case err := <-opened:
		if err != nil {
			p.discard(t)
			return nil, p.classify(ctx, b, fmt.Errorf("opening a tab: %w", err))
		}
		return t, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			p.suspect(b)
		}
		p.wg.Add(1)
		go func() { // the tab may still open; close it once it has
			defer p.wg.Done()
			<-opened
			p.discard(t)
		}()
		return nil, p.classify(ctx, b, fmt.Errorf("opening a tab: %w", ctx.Err()))
	}
}

// prepare creates and attaches the target, switches off the protocol
// domains chromedp enables that a render never reads (each makes the
// renderer report every node, style sheet, request or console line), and
// readies the page: the prerenderReady hook, desktop emulation, and
// request interception, subscribed to before it is enabled so that no
// paused request is missed.
func (t *tab) prepare() error {
	if err := chromedp.Do(t.ctx); err != nil {
		return err
	}
	c := chromedp.FromContext(t.ctx)
	t.id = c.BrowserContextID
	ctx := t.ctx
	for _, cmd := range []cdp.Command[cdp.Empty, cdp.Empty]{dom.Disable, css.Disable, network.Disable, log.Disable} {
		if _, err := chromedp.Call(ctx, cmd, cdp.Empty{}); err != nil {
			return fmt.Errorf("%s: %w", cmd.Method, err)
		}
	}
	if _, err := chromedp.Call(ctx, runtime.AddBinding, runtime.AddBindingParams{Name: readyBinding}); err != nil {
		return fmt.Errorf("adding the readiness binding: %w", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: readyHookJS}); err != nil {
		return fmt.Errorf("adding the readiness hook: %w", err)
	}
	if err := t.emulate(Desktop); err != nil {
		return err
	}
	t.startLoops()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*", RequestStage: fetch.RequestStageRequest}}}); err != nil {
		return fmt.Errorf("intercepting requests: %w", err)
	}
	return nil
}

// startLoops subscribes to the tab's paused requests and readiness calls.
// Each paused request is answered on a goroutine of its own: a handler
// that called the browser from the event loop would deadlock it.
func (t *tab) startLoops() {
	t.loopDone = make(chan struct{})
	paused := chromedp.Events(t.ctx, fetch.RequestPaused)
	calls := chromedp.Events(t.ctx, runtime.BindingCalled)
	t.loops.Add(2)
	go func() {
		defer t.loops.Done()
		for ev, err := range paused {
			if err != nil {
				return
			}
			j := t.job.Load()
			if j == nil || !j.start() {
				// Nothing asked for this request (the page before a
				// render, or after it ended).
				t.loops.Add(1)
				go func() {
					defer t.loops.Done()
					fail(t.ctx, ev.RequestID, network.ErrorReasonAborted)
				}()
				continue
			}
			go func() {
				defer j.end()
				start := time.Now()
				j.handle(ev)
				j.p.stages.since(stageIntercept, start)
			}()
		}
	}()
	go func() {
		defer t.loops.Done()
		for ev, err := range calls {
			if err != nil {
				return
			}
			if ev.Name == readyBinding {
				select {
				case t.readyCh <- struct{}{}:
				default:
				}
			}
		}
	}()
	go func() {
		t.loops.Wait()
		close(t.loopDone)
	}()
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

// emulate makes the tab the variant's device, unless it is already.
func (t *tab) emulate(v Variant) error {
	if t.device == v {
		return nil
	}
	ctx, d := t.ctx, devices[v]
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: d.width, Height: d.height, DeviceScaleFactor: d.scale, Mobile: d.mobile,
		ScreenWidth: d.width, ScreenHeight: d.height,
	}); err != nil {
		return fmt.Errorf("emulating the device: %w", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: d.mobile}); err != nil {
		return fmt.Errorf("emulating touch: %w", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
		UserAgent: userAgent(v), AcceptLanguage: acceptLanguage,
	}); err != nil {
		return fmt.Errorf("setting the user agent: %w", err)
	}
	t.device = v
	return nil
}

// discard closes t on a goroutine of its own, so that a render returns
// as soon as it has its page, once the browser loads no page (see loads).
// Close waits for it.
func (p *Pool) discard(t *tab) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t.b.loads.wait(p.stopCtx.Done())
		t.close()
	}()
}

// close ends the tab's render (its requests are refused from now on),
// detaches from the target, waits for its handlers, and disposes of its
// browser context, which closes the window and its renderer with it.
// Every step is bounded, and a browser that died meanwhile makes each one
// fail at once.
func (t *tab) close() {
	defer t.p.stages.since(stageClose, time.Now())
	t.settle()
	if j := t.job.Load(); j != nil {
		j.finish()
	}
	t.cancel()             // detaches; chromedp bounds the wait
	if t.loopDone != nil { // set before prepare returned, which close follows
		<-t.loopDone // the loops end with the tab's context
	}
	if j := t.job.Load(); j != nil {
		j.handlers.Wait()
	}
	if t.id == "" || !t.b.alive() {
		return
	}
	ctx, cancel := context.WithTimeout(t.b.ctx, closeTimeout)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, target.DisposeBrowserContext, target.DisposeBrowserContextParams{BrowserContextID: t.id}); err != nil && t.b.alive() {
		t.p.log.Debug("closing a tab's browser context failed", "err", err)
	}
}

// fail answers a paused request with a network error. A failure means the
// tab is closing, which the render notices by itself.
func fail(ctx context.Context, id fetch.RequestID, reason network.ErrorReason) error {
	_, err := chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: id, ErrorReason: reason})
	return err
}
