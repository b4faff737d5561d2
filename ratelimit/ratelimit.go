// Package ratelimit enforces request limits across the whole cluster. A
// client spreading requests over every node must get the same limit as one
// hitting a single node, so each bucket lives on one node, the bucket's
// owner on the cache ring, and the other nodes ask it over the internal
// listener. When the owner cannot be reached the asking node decides
// alone, so a partition loosens a limit rather than failing requests.
//
// Limits are fixed windows ("60 per minute", "10 per hour"), matching how
// the API documents them: a window allows exactly Limit requests, and the
// 429 says when the window ends. Each window's bucket counts the requests
// it allowed; a request that then failed without doing its work (a 503
// while the cluster elects a leader) is refunded, so an outage never uses
// up a client's limit.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/rendercache/rendercache/cache"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/peer"
)

// PathPrefix is where Handler is mounted on the internal listener.
const PathPrefix = "/internal/v1/ratelimit"

// errNoKey refuses a question about no bucket.
var errNoKey = errkind.New(errkind.Invalid, "rate limit request without a key")

// Rule is a limit: Limit requests per Window.
type Rule struct {
	Limit  int           `json:"limit"`
	Window time.Duration `json:"window"`
}

// Decision is the answer for one request.
type Decision struct {
	Allowed bool `json:"allowed"`
	// RetryAfter is when the window ends, for a refused request.
	RetryAfter time.Duration `json:"retryAfter"`
	// Window names the window that counted an allowed request (its start
	// in Unix nanoseconds), so that Refund returns it to the same window.
	Window int64 `json:"window,omitempty"`
}

// Limiter decides requests against cluster-wide buckets. Safe for
// concurrent use.
type Limiter struct {
	ring   *cache.Ring
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	used int
	end  time.Time
}

// New returns a limiter over the node's ring; client calls other nodes'
// internal listeners and bounds each call (a slow owner must not stall
// the request it decides).
func New(ring *cache.Ring, client *http.Client, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.Default()
	}
	return &Limiter{ring: ring, client: client, now: time.Now, log: log, buckets: map[string]*bucket{}}
}

// Allow decides one request against the bucket named key.
func (l *Limiter) Allow(ctx context.Context, key string, r Rule) Decision {
	return l.ask(ctx, request{Key: key, Rule: r})
}

// Refund gives back a request that d allowed, for a request that failed
// before doing its work: a client must not lose part of its limit to a
// 503. A refund after d's window ended does nothing.
func (l *Limiter) Refund(ctx context.Context, key string, r Rule, d Decision) {
	if !d.Allowed || d.Window == 0 {
		return
	}
	l.ask(ctx, request{Key: key, Rule: r, Refund: d.Window})
}

// ask sends req to the bucket's owner, or decides here when this node
// owns it or the owner cannot be reached.
func (l *Limiter) ask(ctx context.Context, req request) Decision {
	owner, addr := l.ring.Owner(req.Key)
	if owner == l.ring.Self() || addr == "" {
		return l.local(req)
	}
	d, err := l.remote(ctx, addr, req)
	if err != nil {
		l.log.Debug("rate limit owner unreachable; deciding locally", "owner", owner, "err", err)
		return l.local(req)
	}
	return d
}

// local decides (or refunds) on this node's bucket.
func (l *Limiter) local(req request) Decision {
	r := req.Rule
	if r.Limit <= 0 || r.Window <= 0 {
		return Decision{Allowed: true}
	}
	now := l.now()
	start := now.Truncate(r.Window)
	if req.Refund != 0 {
		start = time.Unix(0, req.Refund)
	}
	end := start.Add(r.Window)
	name := fmt.Sprintf("%s@%d/%d", req.Key, r.Window, start.UnixNano())
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[name]
	if req.Refund != 0 {
		if ok && b.used > 0 {
			b.used--
		}
		return Decision{}
	}
	if !ok {
		l.sweepLocked(now)
		b = &bucket{end: end}
		l.buckets[name] = b
	}
	if b.used < r.Limit {
		b.used++
		return Decision{Allowed: true, Window: start.UnixNano()}
	}
	return Decision{RetryAfter: end.Sub(now)}
}

// sweepLocked drops the buckets of windows that ended, at most once a
// second: a sweep walks every bucket, and at a window's turn every key
// makes a new one.
func (l *Limiter) sweepLocked(now time.Time) {
	if now.Sub(l.lastSweep) < time.Second {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if !now.Before(b.end) {
			delete(l.buckets, k)
		}
	}
}

type request struct {
	Key  string `json:"key"`
	Rule Rule   `json:"rule"`
	// Refund, when set, names the window to give one request back to.
	Refund int64 `json:"refund,omitempty"`
}

func (l *Limiter) remote(ctx context.Context, addr string, r request) (Decision, error) {
	var d Decision
	if err := peer.Call(ctx, l.client, addr, PathPrefix, r, &d); err != nil {
		return Decision{}, fmt.Errorf("ratelimit: ask owner: %w", err)
	}
	return d, nil
}

// Handler answers other nodes' questions about buckets this node owns.
// Mount it at PathPrefix behind peer.Require.
func (l *Limiter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+PathPrefix, peer.Handle(func(_ context.Context, req request) (Decision, error) {
		if req.Key == "" {
			return Decision{}, errNoKey
		}
		return l.local(req), nil
	}))
	return mux
}
