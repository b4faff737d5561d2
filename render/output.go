package render

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/http/httpguts"
)

// snapshotJS strips scripts from the live page, reads the prerender meta
// tags and serialises the document. JSON-LD stays: it is data for
// crawlers, not code. Scripts inside <template> contents are stripped
// too, since outerHTML serialises them.
const snapshotJS = `(() => {
  const t0 = performance.now();
  const strip = (root) => {
    for (const s of Array.from(root.querySelectorAll('script'))) {
      if ((s.getAttribute('type') || '').trim().toLowerCase() !== 'application/ld+json') s.remove();
    }
    for (const t of Array.from(root.querySelectorAll('template'))) strip(t.content);
  };
  strip(document);
  const t1 = performance.now();
  const sc = document.querySelector('meta[name="prerender-status-code"]');
  const hs = Array.from(document.querySelectorAll('meta[name="prerender-header"]')).map(m => m.getAttribute('content') || '');
  const html = '<!DOCTYPE html>' + document.documentElement.outerHTML;
  return {html, status: sc ? (sc.getAttribute('content') || '') : '', headers: hs, stripMs: t1 - t0, serialiseMs: performance.now() - t1};
})()`

// snapshot is what snapshotJS returns.
type snapshot struct {
	HTML    string   `json:"html"`
	Status  string   `json:"status"`
	Headers []string `json:"headers"`
	// StripMs and SerialiseMs are how long the page spent on each.
	StripMs     float64 `json:"stripMs"`
	SerialiseMs float64 `json:"serialiseMs"`
}

// snapshot takes the ready page's HTML and builds the Result.
func (j *job) snapshot() (Result, error) {
	s, err := chromedp.Run(j.ctx, chromedp.Evaluate[snapshot](snapshotJS))
	if err != nil {
		return Result{}, fmt.Errorf("serialising the page: %w", err)
	}
	j.p.stages.add(stageStrip, time.Duration(s.StripMs*float64(time.Millisecond)))
	j.p.stages.add(stageSerialise, time.Duration(s.SerialiseMs*float64(time.Millisecond)))
	return result(j.doc.status, s), nil
}

// bodyHeaders describe the body we serialise, so pages cannot set them.
var bodyHeaders = map[string]bool{"Content-Type": true, "Content-Length": true, "Content-Encoding": true, "Transfer-Encoding": true}

// result applies the page's meta overrides to the document's status: a
// valid prerender-status-code replaces it, and each prerender-header
// ("Name: value", split at the first colon) adds a header. Malformed ones
// are ignored, since pages are not ours to trust.
func result(status int, s snapshot) Result {
	if n, err := strconv.Atoi(strings.TrimSpace(s.Status)); err == nil && n >= 100 && n <= 599 {
		status = n
	}
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	for _, line := range s.Headers {
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if ok && name != "" && httpguts.ValidHeaderFieldName(name) && httpguts.ValidHeaderFieldValue(value) && !bodyHeaders[http.CanonicalHeaderKey(name)] {
			h.Add(name, value)
		}
	}
	return Result{Status: status, Header: h, Body: []byte(s.HTML), Rendered: true}
}
