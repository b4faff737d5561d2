package testcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rendercache/rendercache/client"
)

// Response is a decoded API response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map (nil when not an object).
func (r *Response) JSON() map[string]any {
	var m map[string]any
	json.Unmarshal(r.Body, &m)
	return m
}

// Decode unmarshals the body into v.
func (r *Response) Decode(v any) error { return json.Unmarshal(r.Body, v) }

// String summarises the response for test failure messages.
func (r *Response) String() string { return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body)) }

// httpClient is shared by every test request; it has a timeout so that a
// hung node fails a test instead of hanging it.
var httpClient = &http.Client{Timeout: 20 * time.Second}

// Do sends a request to node i's public API with the admin token. body is
// JSON-encoded unless it is a string or []byte, which are sent as they are.
func (c *Cluster) Do(ctx context.Context, i int, method, path string, body any) (*Response, error) {
	return Do(ctx, c.URL(i), method, path, "Bearer "+c.opts.AdminToken, body)
}

// Do sends a request to base+path with an Authorization header (if auth is
// not empty) and returns the whole response.
func Do(ctx context.Context, base, method, path, auth string, body any) (*Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// CloseIdleConnections drops the test client's keep-alive connections so
// that leak checks do not count them.
func CloseIdleConnections() { httpClient.CloseIdleConnections() }

// Client returns an API client with the admin token whose endpoints are
// the given nodes (default: every node, in order), so that tests call
// the API through the same typed client as the CLI. Pass an API key with
// client.Options of your own when a test needs one.
func (c *Cluster) Client(nodes ...int) *client.Client {
	if len(nodes) == 0 {
		for i := range c.specs {
			nodes = append(nodes, i)
		}
	}
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = c.URL(n)
	}
	cl, err := client.New(client.Options{Endpoints: urls, AdminToken: c.opts.AdminToken, HTTPClient: httpClient})
	if err != nil {
		panic(fmt.Sprintf("testcluster: client: %v", err)) // the URLs are ours
	}
	return cl
}
