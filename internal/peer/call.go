package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/rendercache/rendercache/internal/errkind"
)

// MaxBody bounds every internal request and answer body that Call, Do's
// callers and Handle read: 64 MiB, a cache value or a page listing.
const MaxBody = 64 << 20

var (
	// ErrUnreachable means that no handler acted on the call: the dial
	// failed (refused, partitioned), or the peer's listener turned the
	// request away (no cluster key, unknown route). It is safe to retry
	// elsewhere.
	ErrUnreachable = errors.New("peer unreachable")
	// ErrNoAnswer means that the request was sent but no readable answer
	// came back (connection lost, the client's timeout, an answer over the
	// limit or not decodable): the peer may have acted on it.
	ErrNoAnswer = errors.New("no answer from peer")

	// errUnauthenticated is Require's answer to a request without the
	// cluster's peer token.
	errUnauthenticated = errkind.New(errkind.Unauthorized, "peer authentication required")
	// errTooLarge is readBounded's error for a body over its limit.
	errTooLarge = errors.New("body too large")
)

// Call posts req, encoded as JSON, to path on the internal listener at
// addr, and decodes the handler's JSON answer into resp (nil: the answer is
// read and dropped). c is a client from NewClient, which authenticates the
// call and bounds it in time. The error is one of:
//   - ctx's error, wrapped, when ctx ended first;
//   - ErrUnreachable or ErrNoAnswer, wrapped with the cause;
//   - the handler's error (see WriteError), as an *errkind.Error that
//     keeps its kind, message, retry-after and fields, wrapped.
//
// Safe for concurrent use.
func Call(ctx context.Context, c *http.Client, addr, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("peer call %s: encode: %w", path, err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("peer call %s: %w", path, err)
	}
	r.Header.Set("Content-Type", "application/json")
	answer, err := Do(c, r, MaxBody)
	if err != nil || resp == nil {
		return err
	}
	if err := json.Unmarshal(answer, resp); err != nil {
		return fmt.Errorf("peer call %s%s: %w: decode: %w", addr, path, ErrNoAnswer, err)
	}
	return nil
}

// Do sends r with c and returns the body of a 200 answer, read up to limit
// bytes. It is Call for RPCs whose request or answer is not JSON (the
// cache's values); its errors are Call's. Safe for concurrent use.
func Do(c *http.Client, r *http.Request, limit int64) ([]byte, error) {
	op := "peer call " + r.URL.Host + r.URL.Path
	resp, err := c.Do(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, classify(r.Context(), err))
	}
	defer resp.Body.Close()
	body, err := readBounded(resp.Body, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: status %d: %w", op, resp.StatusCode, classify(r.Context(), err))
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, nil
	case statusAnswered:
		e, err := decodeError(body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", op, ErrNoAnswer, err)
		}
		return nil, fmt.Errorf("%s: %w", op, e)
	}
	return nil, fmt.Errorf("%s: %w: status %d: %s", op, ErrUnreachable, resp.StatusCode, refusal(body))
}

// classify tells why a call failed after it was started: its context
// ended, it never left (a failed dial), or its answer was lost.
func classify(ctx context.Context, err error) error {
	var op *net.OpError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &op) && op.Op == "dial":
		// Not a byte of the request reached the peer.
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return fmt.Errorf("%w: %w", ErrNoAnswer, err)
}

// refusal returns the message of a refusal's body, for the error text.
func refusal(body []byte) string {
	if e, err := decodeError(body); err == nil {
		return e.Message
	}
	return strings.TrimSpace(string(body[:min(len(body), 200)]))
}
