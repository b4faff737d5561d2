package consensus

import (
	"context"
	"sync"
)

// A read scope lets one request take a single read barrier however many
// reads it makes. Credentials are checked against fresh state on every
// authenticated request (a revoked key must not act even once on any node
// after its revocation returned 2xx), and the handler's own reads then
// reuse that barrier instead of paying a second round trip to the leader.
//
// Reuse is sound because every read in the scope still happens after a
// barrier taken after the request began. A write proposed from this node
// inside the scope clears it, so a read that follows its own write takes a
// new barrier and sees it.

type scopeKey struct{}

// readScope records whether a barrier has completed in this scope.
type readScope struct {
	mu    sync.Mutex
	fresh bool
}

// WithReadScope returns a context under which the first successful Fresh
// takes the barrier and later Fresh calls return at once, until a write
// is proposed under the same context. Give each request its own scope.
func WithReadScope(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, &readScope{})
}

func scopeOf(ctx context.Context) *readScope {
	s, _ := ctx.Value(scopeKey{}).(*readScope)
	return s
}

// isFresh reports whether a barrier already completed in ctx's scope.
func (s *readScope) isFresh() bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fresh
}

// set records that a barrier completed (true) or that a write made the
// last one too old for a read that must see it (false).
func (s *readScope) set(fresh bool) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.fresh = fresh
	s.mu.Unlock()
}
