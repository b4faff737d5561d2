package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/rendercache/rendercache/internal/errkind"
)

// Handle returns the handler of one RPC: it decodes the request body (JSON,
// at most MaxBody bytes) into a Req, calls fn with the request's context
// and answers with fn's Resp as JSON, or with fn's error as WriteError
// does. A body that does not decode is answered with an Invalid error (a
// TooLarge one past MaxBody) and fn is not called. Mount it on a POST route
// behind Require. Safe for concurrent use when fn is.
func Handle[Req, Resp any](fn func(ctx context.Context, req Req) (Resp, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Req
		body, err := readBounded(r.Body, MaxBody)
		switch {
		case errors.Is(err, errTooLarge):
			WriteError(w, errkind.New(errkind.TooLarge, fmt.Sprintf("peer request over %d bytes", MaxBody)))
			return
		case err != nil:
			WriteError(w, fmt.Errorf("read request: %w", err))
			return
		}
		if err := json.Unmarshal(body, &req); err != nil {
			WriteError(w, errkind.New(errkind.Invalid, "bad peer request: "+err.Error()))
			return
		}
		resp, err := fn(r.Context(), req)
		if err != nil {
			WriteError(w, err)
			return
		}
		b, err := json.Marshal(resp)
		if err != nil {
			WriteError(w, fmt.Errorf("encode answer: %w", err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(append(b, '\n'))
	})
}

// WriteError answers an RPC with err: the caller's Call or Do returns it
// as an *errkind.Error with the same kind, message, retry-after and
// fields. An error without a kind crosses as Internal with its text.
func WriteError(w http.ResponseWriter, err error) {
	writeError(w, statusAnswered, err)
}

// Refuse turns a request away before any handler acts on it (unknown
// resource, malformed request), with status and err in the wire format:
// the caller's Call or Do fails with ErrUnreachable, as if the peer could
// not be reached, and may try elsewhere.
func Refuse(w http.ResponseWriter, status int, err error) {
	writeError(w, status, err)
}
