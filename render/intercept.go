package render

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/rendercache/rendercache/origin"
)

// handle answers one paused request: the main document from the prefetch
// (so the origin sees one document fetch per render), refused resources
// and trackers with BlockedByClient, and everything else with what Go
// fetched through the policy-checked transport.
func (j *job) handle(ev fetch.EventRequestPaused) {
	req := ev.Request
	if req == nil {
		j.fail(ev.RequestID, network.ErrorReasonFailed)
		return
	}
	if ev.ResourceType == network.ResourceTypeDocument && j.mainServed.CompareAndSwap(false, true) {
		j.fulfill(ev.RequestID, j.doc)
		return
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		j.fail(ev.RequestID, network.ErrorReasonBlockedByClient)
		return
	}
	if j.blocker.blocks(req.URL, ev.ResourceType) {
		j.fail(ev.RequestID, network.ErrorReasonBlockedByClient)
		return
	}
	header := http.Header{}
	for k, v := range req.Headers {
		if s, ok := v.(string); ok {
			for line := range strings.SplitSeq(s, "\n") { // Chromium joins repeated headers with newlines
				header.Add(k, line)
			}
		}
	}
	if header.Get("Cookie") == "" && strings.EqualFold(u.Hostname(), j.page.Hostname()) {
		// Paused requests lack their cookies, which Chromium adds later in
		// its network stack; the page's own API calls may need them.
		if c := j.cookies(req.URL); c != "" {
			header.Set("Cookie", c)
		}
	}
	var body []byte
	for _, e := range req.PostDataEntries {
		body = append(body, e.Bytes...)
	}
	resp, err := j.p.fetcher.do(j.ctx, req.Method, req.URL, header, body)
	if err != nil {
		reason := network.ErrorReasonFailed
		switch {
		case errors.Is(err, origin.ErrBlockedAddr):
			reason = network.ErrorReasonAccessDenied
			j.p.log.Info("a page's request to a refused address was blocked", "url", u.Redacted(), "page", j.req.URL)
		case errors.Is(err, context.DeadlineExceeded):
			reason = network.ErrorReasonTimedOut
		case j.ctx.Err() != nil:
			reason = network.ErrorReasonAborted
		default:
			j.p.log.Debug("a subrequest failed", "url", u.Redacted(), "err", err)
		}
		j.fail(ev.RequestID, reason)
		return
	}
	j.fulfill(ev.RequestID, resp)
}

// cookies returns the Cookie header Chromium would send to rawURL: what
// the page's responses and scripts set during this render.
func (j *job) cookies(rawURL string) string {
	res, err := chromedp.Call(j.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{rawURL}})
	if err != nil {
		return ""
	}
	pairs := make([]string, 0, len(res.Cookies))
	for _, c := range res.Cookies {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	return strings.Join(pairs, "; ")
}

// skipResponseHeaders are not replayed to Chromium: the body is already
// decoded and complete.
var skipResponseHeaders = map[string]bool{
	"Content-Encoding": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Keep-Alive": true,
}

// fulfill answers a paused request with r. A failure means the tab is
// closing, which the render notices by itself.
func (j *job) fulfill(id fetch.RequestID, r response) {
	var hs []*fetch.HeaderEntry
	for k, vs := range r.header {
		if skipResponseHeaders[http.CanonicalHeaderKey(k)] {
			continue
		}
		for _, v := range vs {
			hs = append(hs, &fetch.HeaderEntry{Name: k, Value: v})
		}
	}
	if _, err := chromedp.Call(j.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
		RequestID: id, ResponseCode: int64(r.status), ResponseHeaders: hs, Body: r.body,
	}); err != nil && j.ctx.Err() == nil {
		j.p.log.Debug("fulfilling a request failed", "err", err)
	}
}

// fail answers a paused request with a network error.
func (j *job) fail(id fetch.RequestID, reason network.ErrorReason) {
	if err := fail(j.ctx, id, reason); err != nil && j.ctx.Err() == nil {
		j.p.log.Debug("failing a request failed", "err", err)
	}
}
