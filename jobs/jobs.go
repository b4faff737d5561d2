// Package jobs runs cache refresh and warm-up renders in the background
// and remembers their outcome, so that an API caller can queue a warm-up
// and wait for it. Jobs run on the node that accepted the request, at the
// render tier's Background priority, so live crawler traffic always goes
// first; a few workers per node keep background renders from filling the
// render queue. Job records are kept in memory for a day (at most
// MaxRecords); any node finds a job by asking the others.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/peer"
)

// States of a job.
const (
	Queued    = "queued"
	Rendering = "rendering"
	Done      = "done"
	Failed    = "failed"
)

// Limits.
const (
	// MaxRecords bounds the jobs a node remembers.
	MaxRecords = 20000
	// Retention is how long a finished job is remembered.
	Retention = 24 * time.Hour
	// QueueSize bounds jobs waiting on one node.
	QueueSize = 10000
)

// PathPrefix is where Handler is mounted on the internal listener.
const PathPrefix = "/internal/v1/jobs/"

// ErrQueueFull refuses jobs past QueueSize.
var ErrQueueFull = &errkind.Error{Kind: errkind.Unavailable, Message: "too many refresh jobs queued on this node, retry later", RetryAfter: 30}

// ErrNotFound answers an unknown job, or another account's.
var ErrNotFound = errkind.New(errkind.NotFound, "Job not found")

// Job is one page render queued by a refresh or warm-up.
type Job struct {
	ID        string `json:"jobId"`
	AccountID string `json:"-"`
	Domain    string `json:"domain"`
	Path      string `json:"path"`
	State     string `json:"status"`
	Error     string `json:"error,omitempty"`
	// Rejected is the quality guard's reason ("status", "empty", "text",
	// "title", "canonical", "soft-error", "failed") when a guarded
	// re-render was judged worse than the cached page, which was kept.
	Rejected  string    `json:"rejected,omitempty"`
	Node      string    `json:"node"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Kind names what queued the job ("refresh", "webhook", "warm").
	Kind string `json:"-"`
	// Guarded jobs re-render in place under the quality guard: the cached
	// page is replaced only if the new render is not clearly worse.
	Guarded bool `json:"-"`
}

// Rejection is what a RenderFunc's error says when the quality guard kept
// the cached page: the reason, for the job's status.
type Rejection interface {
	error
	QualityReason() string
}

// wire is a Job as it crosses between nodes: with its owner, whom the
// API never shows.
type wire struct {
	Job
	AccountID string `json:"accountId"`
}

// RenderFunc renders the page of job j (j.Domain, j.Path) at background
// priority, under the quality guard when j.Guarded. An error that is a
// Rejection marks the job rejected.
type RenderFunc func(ctx context.Context, j Job) error

// Runner queues and runs jobs. Safe for concurrent use.
type Runner struct {
	node   string
	render RenderFunc
	log    *slog.Logger
	queue  chan string

	mu    sync.Mutex
	jobs  map[string]*Job
	order []string // IDs oldest first, for retention
}

// NewRunner returns a runner for node; Run starts its workers.
func NewRunner(node string, render RenderFunc, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.Default()
	}
	return &Runner{node: node, render: render, log: log, queue: make(chan string, QueueSize), jobs: map[string]*Job{}}
}

// Run works through the queue with workers goroutines until ctx ends.
func (r *Runner) Run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-r.queue:
					r.runOne(ctx, id)
				}
			}
		}()
	}
	wg.Wait()
}

func (r *Runner) runOne(ctx context.Context, id string) {
	j, ok := r.update(id, Rendering, "")
	if !ok {
		return
	}
	if err := r.render(ctx, j); err != nil {
		msg := err.Error()
		var rej Rejection
		if errors.As(err, &rej) {
			r.update(id, Failed, msg, rej.QualityReason())
			return
		}
		if e := errkind.Of(err); e != nil {
			msg = e.Message
		}
		r.update(id, Failed, msg)
		return
	}
	r.update(id, Done, "")
}

func (r *Runner) update(id, state, msg string, rejected ...string) (Job, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.jobs[id]
	if !ok {
		return Job{}, false
	}
	j.State, j.Error, j.UpdatedAt = state, msg, time.Now().UTC()
	j.Rejected = ""
	if len(rejected) > 0 {
		j.Rejected = rejected[0]
	}
	return *j, true
}

// NewID returns a job ID in the API's documented shape,
// kind_<domain>_<path with / as _>_<unix ms>, plus a random suffix so
// that two refreshes in one millisecond differ. Characters of the path
// that are not safe in a URL path segment become "_" too.
func NewID(kind, domain, path string, now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	slug := strings.Map(func(r rune) rune {
		if r < 128 && (r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return r
		}
		return '_'
	}, path)
	return fmt.Sprintf("%s_%s_%s_%d_%s", kind, domain, slug, now.UnixMilli(), hex.EncodeToString(b[:]))
}

// Submit queues a render of path on domain for accountID.
func (r *Runner) Submit(kind, accountID, domain, path string) (Job, error) {
	return r.submit(kind, accountID, domain, path, false)
}

// SubmitGuarded queues a re-render of path on domain for accountID that
// replaces the cached page only if the quality guard accepts it (a
// webhook refresh, a Cache API refresh with keepUntilReplaced).
func (r *Runner) SubmitGuarded(kind, accountID, domain, path string) (Job, error) {
	return r.submit(kind, accountID, domain, path, true)
}

func (r *Runner) submit(kind, accountID, domain, path string, guarded bool) (Job, error) {
	now := time.Now().UTC()
	j := &Job{ID: NewID(kind, domain, path, now), AccountID: accountID, Domain: domain, Path: path, State: Queued, Node: r.node, CreatedAt: now, UpdatedAt: now,
		Kind: kind, Guarded: guarded}
	r.mu.Lock()
	r.pruneLocked(now)
	r.jobs[j.ID] = j
	r.order = append(r.order, j.ID)
	queued := *j // workers change *j once it is queued
	r.mu.Unlock()
	select {
	case r.queue <- queued.ID:
		return queued, nil
	default:
		// The caller gets no ID, so nobody can ask for this job.
		r.mu.Lock()
		delete(r.jobs, j.ID)
		r.mu.Unlock()
		return Job{}, ErrQueueFull
	}
}

func (r *Runner) pruneLocked(now time.Time) {
	for len(r.order) > 0 {
		j, ok := r.jobs[r.order[0]]
		finished := ok && (j.State == Done || j.State == Failed)
		if ok && len(r.order) < MaxRecords && !(finished && now.Sub(j.UpdatedAt) > Retention) {
			return
		}
		delete(r.jobs, r.order[0])
		r.order = r.order[1:]
	}
}

// Get returns a job this node runs.
func (r *Runner) Get(id string) (Job, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.jobs[id]
	if !ok {
		return Job{}, false
	}
	return *j, true
}

// pathGet is the RPC that reads a job its node runs.
const pathGet = PathPrefix + "get"

type getRequest struct {
	ID string `json:"id"`
}

// Handler serves other nodes' Lookup calls. Mount it at PathPrefix behind
// peer.Require.
func (r *Runner) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+pathGet, peer.Handle(func(_ context.Context, req getRequest) (wire, error) {
		j, ok := r.Get(req.ID)
		if !ok {
			return wire{}, ErrNotFound
		}
		return wire{Job: j, AccountID: j.AccountID}, nil
	}))
	return mux
}

// Lookup asks the node whose internal listener is at addr for a job that
// it runs, owner included; c is a peer client (peer.NewClient). A job the
// node does not know is ErrNotFound. Safe for concurrent use.
func Lookup(ctx context.Context, c *http.Client, addr, id string) (Job, error) {
	var w wire
	if err := peer.Call(ctx, c, addr, pathGet, getRequest{ID: id}, &w); err != nil {
		return Job{}, fmt.Errorf("jobs: lookup %s: %w", id, err)
	}
	j := w.Job
	j.AccountID = w.AccountID
	return j, nil
}
