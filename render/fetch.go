package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/rendercache/rendercache/origin"
)

// fetcher makes every HTTP request of a render. Its transport dials only
// addresses the policy allows, checked on the resolved IP at connect time,
// and it never follows redirects: the document's first redirect is the
// answer, and a subrequest's redirect goes back to Chromium, whose next
// request is intercepted and checked again.
type fetcher struct {
	client  *http.Client
	tr      *http.Transport
	maxBody int64
}

func newFetcher(policy origin.Policy, maxBody int64) *fetcher {
	tr := &http.Transport{
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

func (f *fetcher) close() { f.tr.CloseIdleConnections() }

// response is a fetched resource.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errTooLarge refuses bodies over the cap.
var errTooLarge = errors.New("body over the size limit")

// do fetches one resource.
func (f *fetcher) do(ctx context.Context, method, url string, header http.Header, body []byte) (response, error) {
	var rd io.Reader
	if len(body) > 0 {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return response{}, err
	}
	for k, vs := range header {
		switch http.CanonicalHeaderKey(k) {
		// Go negotiates compression itself and hands over plain bytes;
		// Host and Content-Length follow from the URL and body.
		case "Accept-Encoding", "Host", "Content-Length", "Connection", "Proxy-Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade":
			continue
		}
		req.Header[http.CanonicalHeaderKey(k)] = vs
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
		return response{}, errTooLarge
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// document fetches the page itself, as the crawler's device would.
func (f *fetcher) document(ctx context.Context, url, ua string) (response, error) {
	h := http.Header{}
	h.Set("User-Agent", ua)
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	h.Set("Accept-Language", "en-US,en;q=0.9")
	r, err := f.do(ctx, http.MethodGet, url, h, nil)
	if err != nil {
		if ctx.Err() != nil {
			return response{}, ctx.Err()
		}
		return response{}, fmt.Errorf("%w: %w", ErrOrigin, err)
	}
	return r, nil
}

// isHTML reports whether a document should go through the browser.
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

// userAgent is what renders present: a current Chrome, marked as
// rendercache so origins can tell renders from visitors.
func userAgent(v Variant) string {
	if v == Mobile {
		return "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 rendercache"
	}
	return "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 rendercache"
}
