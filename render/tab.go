package render

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/http/httpguts"
)

// attachTimeout bounds opening a tab; a browser that cannot open one in
// this time is hung and gets replaced.
const attachTimeout = 15 * time.Second

// pollInterval is how often readiness is checked.
const pollInterval = 50 * time.Millisecond

// tab is one render in progress.
type tab struct {
	p   *Pool
	ctx context.Context // the tab's, bounded by the render timeout
	req Request
	doc response

	mainServed atomic.Bool
	inflight   atomic.Int64
	lastActive atomic.Int64 // unix nanoseconds of the last request start or end
	handlers   sync.WaitGroup
}

// renderTab renders the fetched document in a new tab of b.
func (p *Pool) renderTab(ctx context.Context, b *browser, r Request, doc response) (Result, error) {
	tabCtx, closeTab := chromedp.NewContext(b.ctx)
	defer closeTab()

	// Open the tab on a context without a deadline (a deadline on the
	// first run would bind the tab's life to it), guarded by a timer: a
	// browser that cannot open a tab is hung.
	attached := make(chan error, 1)
	go func() { attached <- chromedp.Do(tabCtx) }()
	select {
	case err := <-attached:
		if err != nil {
			return Result{}, p.classify(ctx, b, err)
		}
	case <-time.After(attachTimeout):
		p.log.Error("chromium did not open a tab; killing it", "pid", b.pid)
		b.kill()
		return Result{}, errBrowserGone
	case <-ctx.Done():
		return Result{}, p.classify(ctx, b, ctx.Err())
	}

	// Every later step is bounded by the render's deadline.
	tctx, cancel := context.WithCancel(tabCtx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	t := &tab{p: p, ctx: tctx, req: r, doc: doc}
	t.touch()
	paused := chromedp.Events(tctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			t.handlers.Add(1)
			go func() {
				defer t.handlers.Done()
				t.handle(ev)
			}()
		}
	}()
	defer t.handlers.Wait()
	defer cancel()

	res, err := t.run()
	if err != nil {
		return Result{}, p.classify(ctx, b, err)
	}
	return res, nil
}

// classify turns a failed step into the render's error: the browser died,
// the render timed out, or the caller went away.
func (p *Pool) classify(ctx context.Context, b *browser, err error) error {
	switch {
	case b.ctx.Err() != nil:
		return errBrowserGone
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ErrTimeout
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

func (t *tab) touch() { t.lastActive.Store(time.Now().UnixNano()) }

// idleFor is how long no request has been in flight.
func (t *tab) idleFor() time.Duration {
	if t.inflight.Load() > 0 {
		return 0
	}
	return time.Since(time.Unix(0, t.lastActive.Load()))
}

// run emulates the device, loads the page, waits until it is ready and
// takes the HTML.
func (t *tab) run() (Result, error) {
	ctx := t.ctx
	w, h, scale, mobile := int64(1366), int64(768), 1.0, false
	if t.req.Variant == Mobile {
		w, h, scale, mobile = 412, 915, 2.625, true
	}
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: w, Height: h, DeviceScaleFactor: scale, Mobile: mobile}); err != nil {
		return Result{}, err
	}
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: userAgent(t.req.Variant)}); err != nil {
		return Result{}, err
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*", RequestStage: fetch.RequestStageRequest}}}); err != nil {
		return Result{}, err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(t.req.URL)); err != nil {
		return Result{}, err
	}
	if err := t.waitReady(); err != nil {
		return Result{}, err
	}
	snap, err := chromedp.Run(ctx, chromedp.Evaluate[snapshot](snapshotJS))
	if err != nil {
		return Result{}, err
	}
	return t.result(snap), nil
}

// readyJS reports 1 when the page declared itself ready, 0 when it asked
// to be waited for, -1 when it says nothing (network idle decides).
const readyJS = `typeof window.prerenderReady === 'boolean' ? (window.prerenderReady ? 1 : 0) : -1`

// waitReady waits for window.prerenderReady to turn true when the page
// uses it, else for the network to be idle for IdleTime.
func (t *tab) waitReady() error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		state, err := chromedp.Run(t.ctx, chromedp.Evaluate[int](readyJS))
		if err != nil {
			return err
		}
		if state == 1 || (state == -1 && t.idleFor() >= t.p.opts.IdleTime) {
			return nil
		}
		select {
		case <-t.ctx.Done():
			return t.ctx.Err()
		case <-tick.C:
		}
	}
}

// snapshot is what snapshotJS returns.
type snapshot struct {
	HTML    string   `json:"html"`
	Status  string   `json:"status"`
	Headers []string `json:"headers"`
}

// snapshotJS strips scripts (JSON-LD stays: it is data for crawlers),
// reads the prerender meta tags and serialises the document.
const snapshotJS = `(() => {
  for (const s of Array.from(document.querySelectorAll('script'))) {
    if ((s.getAttribute('type') || '').trim().toLowerCase() !== 'application/ld+json') s.remove();
  }
  for (const l of Array.from(document.querySelectorAll('link[rel="import"]'))) l.remove();
  const sc = document.querySelector('meta[name="prerender-status-code"]');
  const hs = Array.from(document.querySelectorAll('meta[name="prerender-header"]')).map(m => m.getAttribute('content') || '');
  const dt = document.doctype ? '<!DOCTYPE ' + document.doctype.name + '>' : '<!DOCTYPE html>';
  return {html: dt + document.documentElement.outerHTML, status: sc ? (sc.getAttribute('content') || '') : '', headers: hs};
})()`

// result builds the Result from the document and the page's snapshot.
func (t *tab) result(s snapshot) Result {
	status := t.doc.status
	if n, err := strconv.Atoi(strings.TrimSpace(s.Status)); err == nil && n >= 100 && n <= 599 {
		status = n
	}
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	for _, line := range s.Headers {
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if ok && httpguts.ValidHeaderFieldName(name) && httpguts.ValidHeaderFieldValue(value) {
			h.Add(name, value)
		}
	}
	return Result{Status: status, Header: h, Body: []byte(s.HTML), Rendered: true}
}

// blockedTypes are refused unless the request allows resources.
var blockedTypes = map[network.ResourceType]bool{
	network.ResourceTypeImage: true, network.ResourceTypeMedia: true, network.ResourceTypeFont: true,
}

// handle answers one paused request: the main document from the prefetch,
// blocked resources with an error, everything else fetched by Go.
func (t *tab) handle(ev fetch.EventRequestPaused) {
	t.inflight.Add(1)
	t.touch()
	defer func() {
		t.touch()
		t.inflight.Add(-1)
	}()
	req := ev.Request
	if req == nil {
		return
	}
	if ev.ResourceType == network.ResourceTypeDocument && t.mainServed.CompareAndSwap(false, true) {
		t.fulfill(ev.RequestID, t.doc)
		return
	}
	u, err := url.Parse(req.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https"):
		t.fail(ev.RequestID, network.ErrorReasonBlockedByClient)
		return
	case blockedTypes[ev.ResourceType] && !t.req.AllowResources:
		t.fail(ev.RequestID, network.ErrorReasonBlockedByClient)
		return
	case blocked(req.URL, DefaultBlocklist) || blocked(req.URL, t.req.Block):
		t.fail(ev.RequestID, network.ErrorReasonBlockedByClient)
		return
	}
	header := http.Header{}
	for k, v := range req.Headers {
		if s, ok := v.(string); ok {
			header.Set(k, s)
		}
	}
	var body []byte
	for _, e := range req.PostDataEntries {
		body = append(body, e.Bytes...)
	}
	resp, err := t.p.fetcher.do(t.ctx, req.Method, req.URL, header, body)
	if err != nil {
		t.p.log.Debug("subrequest refused or failed", "url", req.URL, "err", err)
		t.fail(ev.RequestID, network.ErrorReasonAccessDenied)
		return
	}
	t.fulfill(ev.RequestID, resp)
}

// hopHeaders are not replayed to Chromium: the body is already decoded and
// complete.
var hopHeaders = map[string]bool{
	"Content-Encoding": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Keep-Alive": true,
}

func (t *tab) fulfill(id fetch.RequestID, r response) {
	var hs []*fetch.HeaderEntry
	for k, vs := range r.header {
		if hopHeaders[http.CanonicalHeaderKey(k)] {
			continue
		}
		for _, v := range vs {
			hs = append(hs, &fetch.HeaderEntry{Name: k, Value: v})
		}
	}
	if _, err := chromedp.Call(t.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: id, ResponseCode: int64(r.status), ResponseHeaders: hs, Body: r.body}); err != nil {
		t.p.log.Debug("fulfilling a request failed", "err", err)
	}
}

func (t *tab) fail(id fetch.RequestID, reason network.ErrorReason) {
	if _, err := chromedp.Call(t.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: id, ErrorReason: reason}); err != nil {
		t.p.log.Debug("failing a request failed", "err", err)
	}
}
