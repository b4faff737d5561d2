package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitState polls until job id reaches state, or fails after a deadline.
func waitState(t *testing.T, r *Runner, id, state string) Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, ok := r.Get(id)
		if ok && j.State == state {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %+v (found %v), want %s", id, j, ok, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewID(t *testing.T) {
	at := time.UnixMilli(1767225600123)
	tests := []struct {
		kind, domain, path string
		want               string // regexp
	}{
		{"refresh", "www.example.com", "/", `^refresh_www\.example\.com___1767225600123_[0-9a-f]{6}$`},
		{"warm", "shop.example.com", "/a/b-c.html", `^warm_shop\.example\.com__a_b-c\.html_1767225600123_[0-9a-f]{6}$`},
		{"webhook", "x.example.com", "/é?q=1&r=%2F#f", `^webhook_x\.example\.com____q_1_r__2F_f_1767225600123_[0-9a-f]{6}$`},
	}
	for _, tt := range tests {
		id := NewID(tt.kind, tt.domain, tt.path, at)
		if !regexp.MustCompile(tt.want).MatchString(id) {
			t.Errorf("NewID(%q, %q, %q) = %q, want %s", tt.kind, tt.domain, tt.path, id, tt.want)
		}
		if id == NewID(tt.kind, tt.domain, tt.path, at) {
			t.Errorf("two IDs in one millisecond are equal: %s", id)
		}
	}
}

// A job goes queued → rendering → done, or → failed with the error's
// client message; the runner hands out copies, never its records.
func TestJobStates(t *testing.T) {
	release := make(chan error)
	started := make(chan string, 4)
	r := NewRunner("n1", func(ctx context.Context, j Job) error {
		started <- j.Path
		return <-release
	}, quiet())
	ok, err := r.Submit("refresh", "acct_1", "a.example.com", "/ok")
	if err != nil || ok.State != Queued || ok.Node != "n1" || ok.AccountID != "acct_1" {
		t.Fatalf("submit: %+v, %v", ok, err)
	}
	failing, _ := r.Submit("refresh", "acct_1", "a.example.com", "/fails")
	plain, _ := r.Submit("refresh", "acct_1", "a.example.com", "/plain")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx, 1); close(done) }()
	defer func() { cancel(); <-done }()

	if p := <-started; p != "/ok" {
		t.Fatalf("first render was %s", p)
	}
	waitState(t, r, ok.ID, Rendering)
	if j, _ := r.Get(failing.ID); j.State != Queued {
		t.Fatalf("second job with one worker busy: %s", j.State)
	}
	release <- nil
	<-started
	release <- &errkind.Error{Kind: errkind.Unavailable, Message: "origin answered 502"}
	<-started
	release <- errors.New("plain failure")

	if j := waitState(t, r, ok.ID, Done); j.Error != "" || j.UpdatedAt.Before(j.CreatedAt) {
		t.Fatalf("done job: %+v", j)
	}
	if j := waitState(t, r, failing.ID, Failed); j.Error != "origin answered 502" {
		t.Fatalf("failed job's error: %q", j.Error)
	}
	if j := waitState(t, r, plain.ID, Failed); j.Error != "plain failure" {
		t.Fatalf("plain error: %q", j.Error)
	}
	j, _ := r.Get(ok.ID)
	j.State = Failed
	if again, _ := r.Get(ok.ID); again.State != Done {
		t.Fatal("Get returned the runner's own record")
	}
}

// Past QueueSize waiting jobs, Submit refuses with a Retry-After and
// forgets the job it could not queue.
func TestQueueFull(t *testing.T) {
	r := NewRunner("n1", func(context.Context, Job) error { return nil }, quiet())
	for i := range QueueSize {
		if _, err := r.Submit("warm", "acct_1", "a.example.com", fmt.Sprint("/", i)); err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
	}
	j, err := r.Submit("warm", "acct_1", "a.example.com", "/overflow")
	if !errors.Is(err, ErrQueueFull) || errkind.Of(err).RetryAfter <= 0 || j.ID != "" {
		t.Fatalf("overflow: %+v, %v", j, err)
	}
	r.mu.Lock()
	n := len(r.jobs)
	r.mu.Unlock()
	if n != QueueSize {
		t.Fatalf("%d records, want %d: the refused job is remembered", n, QueueSize)
	}
}

// Finished jobs are forgotten after Retention, oldest first; a job still
// waiting is kept, and so is everything after it; past MaxRecords the
// oldest go whatever their state.
func TestRetention(t *testing.T) {
	now := time.Now().UTC()
	r := NewRunner("n1", nil, quiet())
	add := func(id, state string, age time.Duration) {
		r.jobs[id] = &Job{ID: id, State: state, UpdatedAt: now.Add(-age)}
		r.order = append(r.order, id)
	}
	tests := []struct {
		name  string
		setup func()
		want  []string
	}{
		{"old finished go", func() {
			add("done-old", Done, Retention+time.Minute)
			add("failed-old", Failed, Retention+time.Minute)
			add("done-new", Done, time.Minute)
		}, []string{"done-new"}},
		{"a waiting job holds the line", func() {
			add("queued-old", Queued, Retention+time.Hour)
			add("done-old", Done, Retention+time.Minute)
		}, []string{"queued-old", "done-old"}},
		{"records over the cap go oldest first", func() {
			for i := range MaxRecords + 2 {
				add(fmt.Sprint("j", i), Rendering, time.Minute)
			}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.jobs, r.order = map[string]*Job{}, nil
			tt.setup()
			r.pruneLocked(now)
			if tt.want == nil {
				if len(r.order) != MaxRecords-1 || r.order[0] != "j3" || len(r.jobs) != len(r.order) {
					t.Fatalf("%d left, oldest %s", len(r.order), r.order[0])
				}
				return
			}
			if strings.Join(r.order, ",") != strings.Join(tt.want, ",") || len(r.jobs) != len(tt.want) {
				t.Fatalf("left %v (%d records), want %v", r.order, len(r.jobs), tt.want)
			}
		})
	}
}

// Other nodes read a job, with its owner, through Handler.
func TestLookup(t *testing.T) {
	r := NewRunner("n1", nil, quiet())
	j, err := r.Submit("refresh", "acct_7", "a.example.com", "/")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name string
		id   string
		want error
	}{
		{"known", j.ID, nil},
		{"unknown", "nope", ErrNotFound},
		{"empty", "", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Lookup(context.Background(), srv.Client(), addr, tt.id)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil || got.AccountID != "acct_7" || got.ID != j.ID || got.State != Queued {
				t.Fatalf("%+v, %v", got, err)
			}
		})
	}
	// The public JSON never carries the owner.
	b, _ := json.Marshal(j)
	if strings.Contains(string(b), "acct_7") {
		t.Fatalf("job JSON shows its account: %s", b)
	}
}

// rejected is a render error saying the quality guard kept the page.
type rejected struct{ reason string }

func (r rejected) Error() string         { return "kept the cached page: " + r.reason }
func (r rejected) QualityReason() string { return r.reason }

// A guarded job reaches its RenderFunc marked as such, and a rejection
// fails it with the guard's reason in its status.
func TestGuardedJobReportsRejection(t *testing.T) {
	seen := make(chan Job, 2)
	r := NewRunner("n1", func(_ context.Context, j Job) error {
		seen <- j
		if j.Guarded {
			return fmt.Errorf("render: %w", rejected{"title"})
		}
		return nil
	}, quiet())
	g, err := r.SubmitGuarded("webhook", "acct_1", "a.example.com", "/")
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := r.Submit("refresh", "acct_1", "a.example.com", "/")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx, 1); close(done) }()
	defer func() { cancel(); <-done }()
	if j := <-seen; !j.Guarded || j.Kind != "webhook" {
		t.Fatalf("first job as rendered: %+v", j)
	}
	if j := <-seen; j.Guarded || j.Kind != "refresh" {
		t.Fatalf("second job as rendered: %+v", j)
	}
	if j := waitState(t, r, g.ID, Failed); j.Rejected != "title" || j.Error != "render: kept the cached page: title" {
		t.Fatalf("rejected job: %+v", j)
	}
	if j := waitState(t, r, plain.ID, Done); j.Rejected != "" {
		t.Fatalf("plain job: %+v", j)
	}
}
