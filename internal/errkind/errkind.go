package errkind

import (
	"errors"
	"maps"
)

// Kind is the class of an error. Each kind maps to exactly one HTTP status in
// httpapi; the zero value is Internal.
type Kind int

// The kinds. Add new ones at the end and never rename one: their names
// cross the wire between nodes (see ParseKind).
const (
	Internal     Kind = iota // a bug or an unexpected failure; 500
	Invalid                  // the request is malformed; 400
	Unauthorized             // missing or bad credentials; 401
	Forbidden                // authenticated but not allowed; 403
	NotFound                 // no such resource, or not the caller's; 404
	Conflict                 // the resource exists or changed; 409
	TooLarge                 // the request body is over the limit; 413
	TooMany                  // a rate limit was hit; 429
	Unavailable              // no leader or no quorum; retry later; 503
	BadMethod                // the route exists but not for this method; 405
)

var names = [...]string{"internal", "invalid", "unauthorized", "forbidden", "not_found", "conflict", "too_large", "too_many", "unavailable", "bad_method"}

// String returns a stable lowercase name of the kind.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(names) {
		return "internal"
	}
	return names[k]
}

// ParseKind returns the kind whose String is name. An unknown name (a kind
// that a newer node added) is Internal, so it still reaches clients as a
// server error rather than failing the decoding of the whole answer.
func ParseKind(name string) Kind {
	for k, n := range names {
		if n == name {
			return Kind(k)
		}
	}
	return Internal
}

// Error is an error with a Kind, a message meant for API clients, and
// optional extra fields that the JSON error body carries beside "error" (the
// seeds' 403 bodies carry "current" and "allowed", for example).
//
// Two Errors match under errors.Is when their kinds and messages are equal,
// so a sentinel still matches after the error crossed the wire.
type Error struct {
	Kind    Kind
	Message string
	Fields  map[string]any
	// RetryAfter, in seconds, is sent as a Retry-After header when positive.
	RetryAfter int
}

// New returns an error of the given kind whose message is shown to clients.
func New(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// Error returns the client-facing message.
func (e *Error) Error() string { return e.Message }

// Is reports whether target is an *Error of the same kind and message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Message == e.Message
}

// With returns a copy of e that carries extra JSON fields.
func (e *Error) With(fields map[string]any) *Error {
	c := *e
	c.Fields = maps.Clone(e.Fields)
	if c.Fields == nil {
		c.Fields = map[string]any{}
	}
	maps.Copy(c.Fields, fields)
	return &c
}

// Of returns the *Error inside err, or nil when err carries no kind.
func Of(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the kind of err; errors without one are Internal.
func KindOf(err error) Kind {
	if e := Of(err); e != nil {
		return e.Kind
	}
	return Internal
}
