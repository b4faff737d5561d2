package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strconv"

	"github.com/rendercache/rendercache/internal/errkind"
)

var (
	// ErrNotFound is the body of unknown routes.
	ErrNotFound = errkind.New(errkind.NotFound, "not found")
	// ErrAdminTokenRequired means /admin was called without a bearer token.
	ErrAdminTokenRequired = errkind.New(errkind.Unauthorized, "admin token required: send Authorization: Bearer <token>")
	// ErrAdminTokenInvalid means the bearer token is not the admin token.
	ErrAdminTokenInvalid = errkind.New(errkind.Unauthorized, "invalid admin token")
	// ErrTimeout means the request's deadline passed inside the cluster.
	ErrTimeout = errkind.New(errkind.Unavailable, "the cluster did not answer in time, retry later")
	// ErrPlanNoAPI is the seed's 403 for plans without API access, on
	// routes registered with APIPlans.
	ErrPlanNoAPI = errkind.New(errkind.Forbidden, "API access is available on Agency plans and above")
	// ErrPlanMissing means the caller's plan is not in this node's
	// catalog: plans live in each node's config, so it is the operator's
	// to fix.
	ErrPlanMissing = errkind.New(errkind.Forbidden, "your account's plan is not configured on this cluster; contact the operator")
	// ErrTooManyRequests is the 429 of a request past its rate limit;
	// Limited sets its Retry-After.
	ErrTooManyRequests = errkind.New(errkind.TooMany, "Rate limit exceeded")
)

// statusOf maps an error kind to its HTTP status; it is the only place that
// does so.
func statusOf(k errkind.Kind) int {
	switch k {
	case errkind.Invalid:
		return http.StatusBadRequest
	case errkind.Unauthorized:
		return http.StatusUnauthorized
	case errkind.Forbidden:
		return http.StatusForbidden
	case errkind.NotFound:
		return http.StatusNotFound
	case errkind.Conflict:
		return http.StatusConflict
	case errkind.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errkind.TooMany:
		return http.StatusTooManyRequests
	case errkind.Unavailable:
		return http.StatusServiceUnavailable
	case errkind.BadMethod:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// methodNotAllowed is the error of a route that exists, but not for method;
// allow lists the methods it has, as the Allow header already sent does.
func methodNotAllowed(method, allow string) error {
	return errkind.New(errkind.BadMethod, "method "+method+" not allowed; allowed: "+allow)
}

// writeError writes err as {"error": message, ...fields} with the status of
// its kind. Errors without a kind are logged and reported as a generic 500
// so that internals never leak.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := errkind.Of(err)
	if e == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		e = ErrTimeout
	}
	if e == nil || e.Kind == errkind.Internal {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errkind.New(errkind.Internal, "internal error")
	}
	if e.Kind == errkind.Unavailable && e.RetryAfter == 0 {
		e = &errkind.Error{Kind: e.Kind, Message: e.Message, Fields: e.Fields, RetryAfter: 1}
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	body := map[string]any{}
	maps.Copy(body, e.Fields)
	body["error"] = e.Message
	WriteJSON(w, statusOf(e.Kind), body)
}

// WriteJSON writes v as JSON with status, as every API answer is
// written.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}
