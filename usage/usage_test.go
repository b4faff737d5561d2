package usage

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/consensus/consensustest"
	"github.com/rendercache/rendercache/internal/record"
)

func TestMonthIsUTC(t *testing.T) {
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC), "2026-11"},
		{time.Date(2026, 1, 31, 23, 30, 0, 0, time.FixedZone("west", -3600)), "2026-02"},
		{time.Date(2026, 3, 1, 0, 30, 0, 0, time.FixedZone("east", 2*3600)), "2026-02"},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "2026-12"},
	}
	for _, tt := range tests {
		if got := Month(tt.at); got != tt.want {
			t.Errorf("Month(%s) = %s, want %s", tt.at, got, tt.want)
		}
	}
}

type fixture struct {
	*consensustest.Node
	ctx context.Context
	now time.Time
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{now: time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)}
	fx.Node = consensustest.Start(t, func(fsm *consensus.FSM) { Register(fsm) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	fx.ctx = ctx
	return fx
}

func (fx *fixture) counter(node string) *Counter {
	c := NewCounter(node, fx.Raft, fx.State, quiet())
	c.now = func() time.Time { return fx.now }
	return c
}

func (fx *fixture) add(c *Counter, domain string, n int) {
	for range n {
		c.Add(domain)
	}
}

func (fx *fixture) total(t *testing.T, c *Counter, domain string) int64 {
	t.Helper()
	n, err := c.Total(domain)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The cluster total is every node's last report plus what this node has
// counted since its own; a restarted node resumes from its report.
func TestTotalsAcrossNodes(t *testing.T) {
	fx := newFixture(t)
	n1, n2 := fx.counter("n1"), fx.counter("n2")
	fx.add(n1, "a.example.com", 3)
	fx.add(n2, "a.example.com", 2)
	fx.add(n2, "b.example.com", 1)
	if got := fx.total(t, n1, "a.example.com"); got != 3 {
		t.Fatalf("n1 before any report: %d, want its own 3", got)
	}
	if err := n2.Report(fx.ctx); err != nil {
		t.Fatal(err)
	}
	if got := fx.total(t, n1, "a.example.com"); got != 5 {
		t.Fatalf("n1 after n2's report: %d, want 5", got)
	}
	if got := fx.total(t, n2, "a.example.com"); got != 2 {
		t.Fatalf("n2, n1 unreported: %d, want 2", got)
	}
	if err := n1.Report(fx.ctx); err != nil {
		t.Fatal(err)
	}
	fx.add(n1, "a.example.com", 1)
	if got := fx.total(t, n1, "a.example.com"); got != 6 {
		t.Fatalf("n1 with one unreported render: %d, want 6", got)
	}
	if got := fx.total(t, n2, "b.example.com"); got != 1 {
		t.Fatalf("b: %d", got)
	}

	// n1 restarts: it resumes from its report (3), the unreported render
	// is lost, and counting goes on from there.
	restarted := fx.counter("n1")
	if got := fx.total(t, restarted, "a.example.com"); got != 5 {
		t.Fatalf("after restart: %d, want 5", got)
	}
	restarted.Add("a.example.com")
	if err := restarted.Report(fx.ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := record.Get[int64](fx.State, prefix+"2026-05/a.example.com/n1", errNone); n != 4 {
		t.Fatalf("n1's report after restart: %d, want 4", n)
	}
	fx.RequireDeterministic(t)
}

// A new month starts from zero, on every node.
func TestMonthRollover(t *testing.T) {
	fx := newFixture(t)
	c := fx.counter("n1")
	fx.add(c, "a.example.com", 4)
	if err := c.Report(fx.ctx); err != nil {
		t.Fatal(err)
	}
	fx.now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if got := fx.total(t, c, "a.example.com"); got != 0 {
		t.Fatalf("June before any render: %d", got)
	}
	c.Add("a.example.com")
	if got := fx.total(t, c, "a.example.com"); got != 1 {
		t.Fatalf("June after one render: %d", got)
	}
	if err := c.Report(fx.ctx); err != nil {
		t.Fatal(err)
	}
	may, _ := record.Get[int64](fx.State, prefix+"2026-05/a.example.com/n1", errNone)
	june, _ := record.Get[int64](fx.State, prefix+"2026-06/a.example.com/n1", errNone)
	if may != 4 || june != 1 {
		t.Fatalf("May %d, June %d; want 4, 1", may, june)
	}
	fx.RequireDeterministic(t)
}

// Report writes only when something was counted, and only the domains
// counted since the last report; a report that fails is sent again.
func TestReportSendsOnlyChanges(t *testing.T) {
	fx := newFixture(t)
	c := fx.counter("n1")
	before := fx.State.AppliedIndex()
	if err := c.Report(fx.ctx); err != nil || fx.State.AppliedIndex() != before {
		t.Fatalf("an empty report wrote: %v, index %d → %d", err, before, fx.State.AppliedIndex())
	}
	c.Add("a.example.com")
	dead, cancel := context.WithDeadline(fx.ctx, time.Now().Add(-time.Second))
	defer cancel()
	if err := c.Report(dead); err == nil {
		t.Fatal("a report past its deadline succeeded")
	}
	c.Add("b.example.com")
	if err := c.Report(fx.ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a.example.com", "b.example.com"} {
		if n, _ := record.Get[int64](fx.State, prefix+"2026-05/"+d+"/n1", errNone); n != 1 {
			t.Fatalf("%s reported %d after a failed report, want 1", d, n)
		}
	}
	c.mu.Lock()
	left := len(c.changed)
	c.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d domains still marked after a good report", left)
	}
	idx := fx.State.AppliedIndex()
	if err := c.Report(fx.ctx); err != nil || fx.State.AppliedIndex() != idx {
		t.Fatal("a report with nothing new wrote")
	}
}

// Apply keeps the largest count a node reported, so a repeated or
// reordered report never lowers it, and refuses malformed reports.
func TestApplyKeepsTheLargestReport(t *testing.T) {
	fx := newFixture(t)
	key := prefix + "2026-05/a.example.com/n1"
	for _, step := range []struct {
		n, want int64
	}{{5, 5}, {3, 5}, {5, 5}, {8, 8}} {
		r := report{Node: "n1", Month: "2026-05", Counts: map[string]int64{"a.example.com": step.n}}
		if _, err := consensus.Propose(fx.ctx, fx.Raft, "report", cmdReport, 1, r); err != nil {
			t.Fatal(err)
		}
		if got, _ := record.Get[int64](fx.State, key, errNone); got != step.want {
			t.Fatalf("after reporting %d: %d, want %d", step.n, got, step.want)
		}
	}
	for name, r := range map[string]report{
		"no node":       {Month: "2026-05", Counts: map[string]int64{"a.example.com": 99}},
		"node with '/'": {Node: "n1/x", Month: "2026-05", Counts: map[string]int64{"a.example.com": 99}},
		"bad month":     {Node: "n1", Month: "2026-5", Counts: map[string]int64{"a.example.com": 99}},
	} {
		if _, err := consensus.Propose(fx.ctx, fx.Raft, "report", cmdReport, 1, r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if got, _ := record.Get[int64](fx.State, key, errNone); got != 8 {
		t.Fatalf("refused reports changed the count to %d", got)
	}
	if n, err := record.Count(fx.State, prefix); err != nil || n != 1 {
		t.Fatalf("%d usage records, %v; want 1", n, err)
	}
	fx.RequireDeterministic(t)
}
