package httpapi

import (
	"context"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/ratelimit"
)

// Limiter decides rate limits cluster-wide; *ratelimit.Limiter satisfies
// it.
type Limiter interface {
	Allow(ctx context.Context, key string, r ratelimit.Rule) ratelimit.Decision
	Refund(ctx context.Context, key string, r ratelimit.Rule, d ratelimit.Decision)
}

var _ Limiter = (*ratelimit.Limiter)(nil)

// Limited runs do under rule's limit for the bucket key, cluster-wide,
// with l (nil: no limit): past the limit it returns ErrTooManyRequests
// with Retry-After and does nothing; a 503 from do gives its place back.
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
