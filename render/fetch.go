package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/rendercache/rendercache/origin"
)

// fetcher makes every HTTP request of a render, the document and each
// subrequest. Its transport dials only addresses the policy allows,
// checked on the resolved IP at connect time (so DNS rebinding cannot get
// past it), uses no proxy, and never follows redirects: the document's
// first redirect is the answer, and a subrequest's redirect goes back to
// Chromium, whose next request is intercepted and checked again. Safe for
// concurrent use.
type fetcher struct {
	client  *http.Client
	tr      *http.Transport
	maxBody int64
}

func newFetcher(policy origin.Policy, maxBody int64) *fetcher {
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the policy
		DialContext:           policy.DialContext(10 * time.Second),
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &fetcher{
		tr:      tr,
		maxBody: maxBody,
		client: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// close drops idle connections, and with them their goroutines.
func (f *fetcher) close() { f.tr.CloseIdleConnections() }

// response is a fetched resource, its body read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errTooLarge refuses bodies over Options.MaxBody.
var errTooLarge = errors.New("body over the size limit")

// skipRequestHeaders are not replayed from Chromium: Go negotiates
// compression itself and hands over plain bytes, and the rest follow from
// the URL and body or are hop-by-hop.
var skipRequestHeaders = map[string]bool{
	"Accept-Encoding": true, "Host": true, "Content-Length": true, "Connection": true,
	"Proxy-Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Upgrade": true, "Te": true,
}

// do fetches one resource. Errors from a refused dial wrap
// origin.ErrBlockedAddr.
func (f *fetcher) do(ctx context.Context, method, url string, header http.Header, body []byte) (response, error) {
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return response{}, err
	}
	for k, vs := range header {
		k = http.CanonicalHeaderKey(k)
		if !skipRequestHeaders[k] {
			req.Header[k] = vs
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBody+1))
	if err != nil {
		return response{}, err
	}
	if int64(len(b)) > f.maxBody {
		return response{}, fmt.Errorf("%s: %w (%d bytes)", url, errTooLarge, f.maxBody)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// document fetches the page itself, as the crawler's device would. Its
// errors wrap ErrOrigin (and origin.ErrBlockedAddr for a refused address),
// or are ctx's.
func (f *fetcher) document(ctx context.Context, url string, v Variant) (response, error) {
	h := http.Header{}
	h.Set("User-Agent", userAgent(v))
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	h.Set("Accept-Language", acceptLanguage)
	r, err := f.do(ctx, http.MethodGet, url, h, nil)
	if err != nil {
		if ctx.Err() != nil {
			return response{}, ctx.Err()
		}
		return response{}, fmt.Errorf("%w: %w", ErrOrigin, err)
	}
	return r, nil
}

// isRedirect reports whether the document is passed through as a
// redirect rather than rendered.
func isRedirect(status int) bool { return status >= 300 && status < 400 }

// isHTML reports whether a document goes through the browser. Without a
// Content-Type, the body is sniffed.
func isHTML(r response) bool {
	ct := r.header.Get("Content-Type")
	if ct == "" {
		ct = http.DetectContentType(r.body)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// passthrough is the origin's own answer: a redirect, or a body the
// browser has nothing to do with.
func passthrough(doc response) Result {
	h := http.Header{}
	for _, k := range []string{"Content-Type", "Location"} {
		if v := doc.header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	return Result{Status: doc.status, Header: h, Body: doc.body}
}

// acceptLanguage is what renders ask for; crawlers index the default
// language.
const acceptLanguage = "en-US,en;q=0.9"

// userAgent is what renders present: a current Chrome on the variant's
// device, marked "rendercache" so that origins can tell renders from
// visitors.
func userAgent(v Variant) string {
	if v == Mobile {
		return "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 rendercache"
	}
	return "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 rendercache"
}
