package httpapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/ratelimit"
)

// countingLimiter allows `left` requests and records refunds.
type countingLimiter struct {
	left, refunds int
}

func (l *countingLimiter) Allow(context.Context, string, ratelimit.Rule) ratelimit.Decision {
	if l.left == 0 {
		return ratelimit.Decision{RetryAfter: 1500 * time.Millisecond}
	}
	l.left--
	return ratelimit.Decision{Allowed: true, Window: 1}
}

func (l *countingLimiter) Refund(context.Context, string, ratelimit.Rule, ratelimit.Decision) {
	l.left++
	l.refunds++
}

var _ Limiter = (*countingLimiter)(nil)

// A rate-limited request that fails with 503 gives its place back; any
// other outcome keeps it counted, and a request past the limit does no
// work and says when to retry.
func TestLimitedRefundsOnlyUnavailable(t *testing.T) {
	rule := ratelimit.Rule{Limit: 1, Window: time.Minute}
	cases := []struct {
		name    string
		err     error
		refunds int
	}{
		{"success", nil, 0},
		{"no leader", errkind.New(errkind.Unavailable, "no leader"), 1},
		{"wrapped unavailable", errors.Join(errors.New("purge"), errkind.New(errkind.Unavailable, "down")), 1},
		{"bad input", errkind.New(errkind.Invalid, "bad path"), 0},
		{"not found", errkind.New(errkind.NotFound, "Domain not found"), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lim := &countingLimiter{left: 1}
			ran := false
			err := Limited(context.Background(), lim, "k", rule, func() error { ran = true; return tc.err })
			if !ran || !errors.Is(err, tc.err) && tc.err != nil {
				t.Fatalf("ran %v, err %v; want the work run and its error", ran, err)
			}
			if lim.refunds != tc.refunds {
				t.Fatalf("%d refunds, want %d", lim.refunds, tc.refunds)
			}
		})
	}
	lim := &countingLimiter{}
	err := Limited(context.Background(), lim, "k", rule, func() error { t.Fatal("work past the limit"); return nil })
	if e := errkind.Of(err); e == nil || e.Kind != errkind.TooMany || e.RetryAfter != 2 {
		t.Fatalf("past the limit: %v; want 429 with Retry-After 2", err)
	}
}
