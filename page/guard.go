package page

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/page/quality"
	"github.com/rendercache/rendercache/render"
)

// RenderFailed is the guard's reason for a re-render that failed outright
// (a timeout, a page that could not be loaded): the cached page stays.
const RenderFailed quality.Reason = "failed"

// Guard retry bounds: a rejected re-render is tried again after a delay
// that doubles each time, from a base of an eighth of the TTL (between
// minRetryBase and maxRetryBase), at most MaxGuardAttempts renders in a
// row; after that the guard stops retrying and the kept page leaves the
// cache at the end of its L2 life.
const (
	MaxGuardAttempts = 4
	minRetryBase     = 5 * time.Second
	maxRetryBase     = 10 * time.Minute
	// maxGuardStates bounds the pages whose rejections a node remembers.
	maxGuardStates = 10000
)

// Outcome is what a guarded re-render did.
type Outcome struct {
	// Replaced reports whether the new render replaced the cached page.
	Replaced bool `json:"replaced"`
	// Reason and Detail say why the guard kept the cached page.
	Reason quality.Reason `json:"reason,omitempty"`
	Detail string         `json:"detail,omitempty"`
}

// Err returns the outcome as an error: nil when the page was replaced,
// else a *Rejected.
func (o Outcome) Err() error {
	if o.Replaced {
		return nil
	}
	return &Rejected{Reason: o.Reason, Detail: o.Detail}
}

// Rejected is the error of a guarded refresh whose re-render the quality
// guard judged worse than the cached page, which it kept. It satisfies
// jobs.Rejection, so the job's status shows the reason.
type Rejected struct {
	Reason quality.Reason
	Detail string
}

func (r *Rejected) Error() string {
	return "the re-render was rejected by the quality guard (" + string(r.Reason) + "): " + r.Detail +
		"; the cached page is kept and the render is retried later"
}

// QualityReason implements jobs.Rejection.
func (r *Rejected) QualityReason() string { return string(r.Reason) }

// guardState is what a node remembers of a page whose re-renders the
// guard rejected.
type guardState struct {
	attempts  int       // rejected renders in a row
	last      int       // status of the last rejected render (0: it failed)
	retryAt   time.Time // no re-render before this
	exhausted bool      // MaxGuardAttempts reached: no more retries
}

// guardBook keeps guardStates by store key. Safe for concurrent use.
type guardBook struct {
	mu    sync.Mutex
	pages map[string]*guardState
}

// lastRejected returns the status of the page's last rejected render.
func (b *guardBook) lastRejected(sk string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st, ok := b.pages[sk]; ok {
		return st.last
	}
	return 0
}

// waiting reports whether the page's re-renders are held back: a retry is
// scheduled later, or the guard gave up.
func (b *guardBook) waiting(sk string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.pages[sk]
	return ok && (st.exhausted || now.Before(st.retryAt))
}

// exhausted reports whether the guard gave up retrying the page.
func (b *guardBook) exhausted(sk string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.pages[sk]
	return ok && st.exhausted
}

// reject records a rejected render of status and returns when to retry,
// or exhausted.
func (b *guardBook) reject(sk string, status int, now time.Time, ttl time.Duration) (retryAt time.Time, exhausted bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.pages[sk]
	if !ok {
		if len(b.pages) >= maxGuardStates {
			for k := range b.pages { // forget one at random
				delete(b.pages, k)
				break
			}
		}
		st = &guardState{}
		b.pages[sk] = st
	}
	st.attempts++
	st.last = status
	if st.attempts >= MaxGuardAttempts {
		st.exhausted = true
		return time.Time{}, true
	}
	base := min(max(ttl/8, minRetryBase), maxRetryBase)
	st.retryAt = now.Add(base << (st.attempts - 1))
	return st.retryAt, false
}

// clear forgets the page: a render replaced it.
func (b *guardBook) clear(sk string) {
	b.mu.Lock()
	delete(b.pages, sk)
	b.mu.Unlock()
}

// rerender re-renders k in the background under the quality guard, once
// however many ask at the same time (stale-while-revalidate, recache, a
// refresh). It runs on the page's owner, where its L2 copy lives.
func (s *Service) rerender(ctx context.Context, k Key, d domain.Domain, cause string) (Outcome, error) {
	v, err, _ := s.rerenders.Do(k.StoreKey(), func() (any, error) { return s.guardedRender(ctx, k, d, cause) })
	if err != nil {
		return Outcome{}, err
	}
	return v.(Outcome), nil
}

// guardedRender renders k and replaces its L2 copy only if the guard
// accepts the render; a page without an L2 copy is simply stored.
func (s *Service) guardedRender(ctx context.Context, k Key, d domain.Domain, cause string) (Outcome, error) {
	if s.cfg.Allow != nil {
		if err := s.cfg.Allow(d); err != nil {
			return Outcome{}, err
		}
	}
	sk := k.StoreKey()
	raw, expires, hasOld, err := s.cfg.Store.Get(sk)
	if err != nil {
		s.cfg.Logger.Warn("page store read failed; re-rendering without the guard", "key", sk, "err", err)
	}
	var old *edge.Answer
	if hasOld {
		if _, ans, perr := parseValue(raw); perr == nil {
			old, _ = edge.Decode(ans)
		}
	}
	res, err := s.renderRaw(ctx, k, d, render.Background)
	if errors.Is(err, render.ErrQueueFull) {
		return Outcome{}, err
	}
	if old == nil {
		if err == nil {
			err = failedResult(res)
		}
		if err != nil {
			s.stats.RenderFailures.Add(1)
			return Outcome{}, err
		}
		s.keep(k, d, res)
		return Outcome{Replaced: true}, nil
	}
	v := s.judge(sk, old, res, err, d)
	if !v.OK {
		return s.rejected(k, d, cause, raw, expires, res.Status, v), nil
	}
	s.keep(k, d, res)
	return Outcome{Replaced: true}, nil
}

// judge is the guard's verdict on a render (res, or its error) against
// the cached answer old. A failure, a 5xx and an empty page are never
// accepted, whatever the old page was.
func (s *Service) judge(sk string, old *edge.Answer, res render.Result, err error, d domain.Domain) quality.Verdict {
	if err != nil {
		s.stats.RenderFailures.Add(1)
		msg := err.Error()
		if e := errkind.Of(err); e != nil {
			msg = e.Message
		}
		return quality.Verdict{Reason: RenderFailed, Detail: msg}
	}
	ferr := failedResult(res)
	if ferr != nil {
		s.stats.RenderFailures.Add(1)
	}
	v := quality.Judge(
		quality.Page{Status: old.Status(), ContentType: old.Header("Content-Type"), Body: old.Body()},
		quality.Page{Status: res.Status, ContentType: res.Header.Get("Content-Type"), Body: res.Body},
		quality.Options{SoftErrorMarkers: d.Quality.SoftErrorMarkers, LastRejected: s.guard.lastRejected(sk)})
	if v.OK && ferr != nil {
		reason := quality.StatusWorse
		if res.Status < 500 {
			reason = quality.Empty
		}
		return quality.Verdict{Reason: reason, Detail: errkind.Of(ferr).Message}
	}
	return v
}

// rejected counts, logs and schedules the retry of a rejected render of
// k, and keeps the cached copy (raw, expiring at expires) in L2 at least
// until one TTL after the retry.
func (s *Service) rejected(k Key, d domain.Domain, cause string, raw []byte, expires time.Time, status int, v quality.Verdict) Outcome {
	sk := k.StoreKey()
	now := s.cfg.Now()
	s.rejections.WithLabelValues(string(v.Reason)).Inc()
	retryAt, exhausted := s.guard.reject(sk, status, now, TTL(d))
	s.cfg.Logger.Warn("re-render rejected by the quality guard; the cached page stays",
		"key", k.String(), "cause", cause, "reason", string(v.Reason), "detail", v.Detail, "retry_at", retryAt, "gave_up", exhausted)
	if !exhausted {
		if keepUntil := retryAt.Add(TTL(d)); keepUntil.After(expires) {
			if err := s.cfg.Store.Put(sk, raw, keepUntil); err != nil {
				s.cfg.Logger.Warn("page store write failed", "key", sk, "err", err)
			}
		}
		s.recache.retry(k, retryAt)
	}
	return Outcome{Reason: v.Reason, Detail: v.Detail}
}
