package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Options configure a Client. Only Endpoints is required.
type Options struct {
	// Endpoints are the base URLs of nodes ("http://10.0.0.1:8080"), tried
	// in turn: a request goes to the node that last answered, and moves
	// on to the next when it is safe to send the request again.
	Endpoints []string
	// APIKey is the account API key, sent as X-Api-Key (and as
	// X-Prerender-Token by Render).
	APIKey string
	// AdminToken is the operator's token, sent as Authorization: Bearer
	// on /admin routes.
	AdminToken string
	// HTTPClient defaults to a client with a 30s timeout.
	HTTPClient *http.Client
	// MaxAttempts bounds the tries of one call, over all endpoints;
	// default 3, and at least one per endpoint.
	MaxAttempts int
	// MaxRetryWait caps how long a retry waits for a 503's Retry-After;
	// default 5s.
	MaxRetryWait time.Duration
	// UserAgent defaults to "rendercache-client".
	UserAgent string
}

// Client calls the API of a rendercache cluster. It is safe for
// concurrent use.
type Client struct {
	opts      Options
	endpoints []*url.URL
	http      *http.Client
	// current is the index of the endpoint that answered last.
	current atomic.Int32
}

// ErrNoEndpoint means Options.Endpoints is empty.
var ErrNoEndpoint = errors.New("client: no endpoint: give at least one node's URL, such as http://127.0.0.1:8080")

// New returns a Client for opts.
func New(opts Options) (*Client, error) {
	c := &Client{opts: opts, http: opts.HTTPClient}
	for _, e := range opts.Endpoints {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !strings.Contains(e, "://") {
			e = "http://" + e
		}
		u, err := url.Parse(strings.TrimRight(e, "/"))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("client: endpoint %q is not an http(s) URL", e)
		}
		c.endpoints = append(c.endpoints, u)
	}
	if len(c.endpoints) == 0 {
		return nil, ErrNoEndpoint
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.opts.MaxAttempts <= 0 {
		c.opts.MaxAttempts = 3
	}
	c.opts.MaxAttempts = max(c.opts.MaxAttempts, len(c.endpoints))
	if c.opts.MaxRetryWait <= 0 {
		c.opts.MaxRetryWait = 5 * time.Second
	}
	if c.opts.UserAgent == "" {
		c.opts.UserAgent = "rendercache-client"
	}
	return c, nil
}

// Endpoints returns the base URLs the client tries, in order.
func (c *Client) Endpoints() []string {
	out := make([]string, len(c.endpoints))
	for i, u := range c.endpoints {
		out[i] = u.String()
	}
	return out
}

// Error is an answer with a 4xx or 5xx status: the API's
// {"error": message, ...fields} body with its status.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Message is the body's "error".
	Message string
	// Fields are the body's other fields, such as "current" and "allowed"
	// on limit errors; nil when there are none.
	Fields map[string]any
	// RetryAfter is the Retry-After header of a 429 or 503, or zero.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if cur, ok := e.Fields["current"]; ok {
		msg += fmt.Sprintf(" (current %v, allowed %v)", cur, e.Fields["allowed"])
	}
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), msg)
}

// StatusOf returns the status of an *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// auth says which credential a request carries.
type auth int

const (
	authNone auth = iota
	authAdmin
	authKey
)

// request is one API call.
type request struct {
	method string
	path   string // with the query
	auth   auth
	// header adds headers (a webhook token, a prerender token).
	header http.Header
	body   any // JSON-encoded when not nil
	// page accepts an error status whose body is not JSON: a rendered
	// page (an origin's 404), not the API's refusal.
	page bool
}

// response is a successful answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// idempotent reports whether a request may be sent again after it may
// have reached the server (RFC 9110 9.2.2): GET, HEAD, PUT, DELETE and
// OPTIONS. POST and PATCH are sent again only when they surely never left.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// neverSent reports whether err happened before the request reached a
// server: the connection could not be made.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// do sends req to the endpoints in turn and returns the first answer
// that is not worth retrying. It retries a request that never left on
// the next endpoint, and an idempotent one after a connection failure,
// or after a 503 (waiting for its Retry-After). A POST or PATCH that may
// have been applied is never sent twice.
func (c *Client) do(ctx context.Context, req request) (*response, error) {
	var body []byte
	if req.body != nil {
		var err error
		if body, err = json.Marshal(req.body); err != nil {
			return nil, fmt.Errorf("%s %s: encode: %w", req.method, req.path, err)
		}
	}
	start := int(c.current.Load())
	var lastErr error
	for attempt := 0; attempt < c.opts.MaxAttempts; attempt++ {
		i := (start + attempt) % len(c.endpoints)
		resp, err := c.send(ctx, c.endpoints[i], req, body)
		if err == nil {
			c.current.Store(int32(i))
			if resp.status < 400 || req.page && !strings.Contains(resp.header.Get("Content-Type"), "json") {
				return resp, nil
			}
			apiErr := decodeError(resp)
			lastErr = fmt.Errorf("%s %s: %w", req.method, req.path, apiErr)
			if resp.status != http.StatusServiceUnavailable || !idempotent(req.method) || attempt == c.opts.MaxAttempts-1 {
				return nil, lastErr
			}
			if err := sleep(ctx, min(apiErr.RetryAfter, c.opts.MaxRetryWait)); err != nil {
				return nil, lastErr
			}
			continue
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
		}
		lastErr = fmt.Errorf("%s %s on %s: %w", req.method, req.path, c.endpoints[i].Host, err)
		if !neverSent(err) && !idempotent(req.method) {
			return nil, lastErr
		}
	}
	return nil, lastErr
}

// send makes one attempt at one endpoint.
func (c *Client) send(ctx context.Context, base *url.URL, req request, body []byte) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, base.String()+req.path, rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("User-Agent", c.opts.UserAgent)
	switch req.auth {
	case authAdmin:
		if c.opts.AdminToken != "" {
			hr.Header.Set("Authorization", "Bearer "+c.opts.AdminToken)
		}
	case authKey:
		if c.opts.APIKey != "" {
			hr.Header.Set("X-Api-Key", c.opts.APIKey)
		}
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// decodeError turns an error answer into an *Error.
func decodeError(resp *response) *Error {
	e := &Error{Status: resp.status}
	var m map[string]any
	if json.Unmarshal(resp.body, &m) == nil {
		if s, ok := m["error"].(string); ok {
			e.Message = s
			delete(m, "error")
		}
		if len(m) > 0 {
			e.Fields = m
		}
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(resp.body))
	}
	if s, err := strconv.Atoi(resp.header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// call sends req and decodes the JSON answer into out (unless nil).
func (c *Client) call(ctx context.Context, req request, out any) error {
	resp, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	if out == nil || resp.status == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", req.method, req.path, err)
	}
	return nil
}

// esc escapes one path segment.
func esc(s string) string { return url.PathEscape(s) }
