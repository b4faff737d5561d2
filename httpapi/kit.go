package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/ratelimit"
)

// The kit that API surfaces in their own packages (httpapi/zones) build
// on: they register routes on the Server, which gives each the same
// metrics, deadline, read scope and error map as the routes here.

// Handler is an API surface's handler: it writes a success response or
// returns an error for the one error map.
type Handler func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error

// Handle registers h under method and path (httprouter syntax). Call it
// before the server serves: the router is not safe for concurrent
// registration.
func (s *Server) Handle(method, path string, h Handler) {
	s.route(method, path, handler(h))
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// DecodeJSON reads exactly one JSON object of at most DefaultMaxBodyBytes
// from r's body into v; every problem is a 4xx error naming it.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSON(w, r, DefaultMaxBodyBytes, v)
}

// DecodeOptionalJSON is DecodeJSON for a body that may be omitted.
func DecodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeOptionalJSON(w, r, DefaultMaxBodyBytes, v)
}

// APIKey returns the account API key r presents (X-Api-Key,
// X-ResCDN-Key or Authorization: Bearer), or "".
func APIKey(r *http.Request) string { return apiKeyFrom(r) }

// Limited runs do under rule's limit for the bucket key, cluster-wide,
// with l (nil: no limit): past the limit it returns a 429 error with
// Retry-After and does nothing; a 503 from do gives its place back.
func Limited(ctx context.Context, l Limiter, key string, rule ratelimit.Rule, do func() error) error {
	if l == nil {
		return do()
	}
	d := l.Allow(ctx, key, rule)
	if !d.Allowed {
		e := *ErrTooManyRequests
		e.RetryAfter = max(1, int((d.RetryAfter+time.Second-1)/time.Second))
		return &e
	}
	err := do()
	if errkind.KindOf(err) == errkind.Unavailable {
		// The cluster could not do the work (no leader, a full render
		// queue): the client retries after Retry-After, and that retry
		// must not find its limit used up by the failure.
		l.Refund(context.WithoutCancel(ctx), key, rule, d)
	}
	return err
}
