package tenanttraffic

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/storage"
)

// localRaft applies commands straight to an FSM over real Pebble state,
// in order, as a one-node raft would.
type localRaft struct {
	mu  sync.Mutex
	fsm *consensus.FSM
	idx uint64
}

func (r *localRaft) Apply(_ context.Context, cmd consensus.Command) (json.RawMessage, error) {
	b, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.idx++
	r.fsm.Apply(&raft.Log{Index: r.idx, Data: b})
	return nil, nil
}

func newLocalRaft(db *storage.DB) *localRaft {
	fsm := consensus.NewFSM(db.State(), slog.Default())
	Register(fsm)
	return &localRaft{fsm: fsm}
}

func TestMeterReportsRollUpAcrossNodesAndPrune(t *testing.T) {
	db := openDB(t)
	r := newLocalRaft(db)
	day0 := time.Date(2026, 1, 30, 10, 0, 0, 0, time.UTC)
	clk := &clock{t: day0}
	mk := func(node string) *Meter {
		m := NewMeter(node, r, db.State(), nil)
		m.now = clk.now
		return m
	}
	a, b := mk("a"), mk("b")
	for i := range 30 {
		a.Observe(obs("acme", "/~api/x", 200, day0))
		if i%3 == 0 {
			b.Observe(obs("acme", "/page", 404, day0))
		}
	}
	b.Observe(obs("beta", "/", 500, day0))
	ctx := context.Background()
	if err := a.Report(ctx); err != nil {
		t.Fatal(err)
	}
	// Before b reports, a sees its own and nothing of b's.
	all := func(string, int32) bool { return true }
	sp := span{dayOf(day0), dayOf(day0)}
	sums, err := a.sum("", all, sp)
	if err != nil {
		t.Fatal(err)
	}
	if got := total(sums["acme"]).Requests; got != 30 {
		t.Fatalf("a sees %d acme requests before b reported, want 30", got)
	}
	if err := b.Report(ctx); err != nil {
		t.Fatal(err)
	}
	sums, err = a.sum("", all, sp)
	if err != nil {
		t.Fatal(err)
	}
	acme := sums["acme"]
	if acme.API.Requests != 30 || acme.Website.Requests != 10 || acme.Website.S4xx != 10 || acme.API.S2xx != 30 || acme.API.Bytes != 300 {
		t.Fatalf("acme summed %+v", acme)
	}
	if len(acme.API.Paths) != 1 || acme.API.Paths[0] != (PathCount{"/~api/x", 30}) {
		t.Fatalf("acme api paths %+v", acme.API.Paths)
	}
	if sums["beta"].Website.S5xx != 1 {
		t.Fatalf("beta %+v", sums["beta"])
	}
	// A restarted node resumes from its report: its counts only grow.
	a2 := mk("a")
	a2.Observe(obs("acme", "/~api/x", 200, day0))
	if err := a2.Report(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := record.Get[Day](db.State(), stateKey(dayName(dayOf(day0)), "acme", "a"), errNone)
	if err != nil || got.API.Requests != 31 {
		t.Fatalf("a's record after restart: %+v %v", got, err)
	}

	// RetentionDays later, the next report deletes day0's records.
	clk.set(day0.AddDate(0, 0, RetentionDays))
	b.Observe(obs("acme", "/", 200, clk.now()))
	if err := b.Report(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := record.Count(db.State(), prefix+dayName(dayOf(day0))+"/")
	if err != nil || n != 0 {
		t.Fatalf("%d records of day0 left, %v", n, err)
	}
	if n, _ := record.Count(db.State(), prefix); n != 1 {
		t.Fatalf("%d records left, want today's one", n)
	}
}

func TestTopPathsKeepHeavyPathsAmongManyUnique(t *testing.T) {
	var s liveSurface
	s.paths = map[string]int64{}
	at := time.Now()
	for i := range 5000 {
		s.add(obs("acme", fmt.Sprintf("/unique/%d", i), 200, at))
		if i%10 == 0 {
			s.add(obs("acme", "/heavy", 200, at))
		}
		if i%25 == 0 {
			s.add(obs("acme", "/second", 200, at))
		}
	}
	if len(s.paths) > trackPaths {
		t.Fatalf("%d paths tracked, bound %d", len(s.paths), trackPaths)
	}
	tp := top(s.paths, TopPaths)
	if tp[0].Path != "/heavy" || tp[0].Requests < 500 || tp[1].Path != "/second" || tp[1].Requests < 200 {
		t.Fatalf("top paths %+v", tp[:2])
	}
	long := make([]byte, 1000)
	for i := range long {
		long[i] = 'a'
	}
	if got := clip("/" + string(long)); len(got) != maxPath {
		t.Fatalf("clipped to %d", len(got))
	}
}

func TestPeriodsAndRanges(t *testing.T) {
	now := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC) // a Wednesday
	for _, tc := range []struct {
		p                  Period
		cur, prev          string
		curStart, prevStop string
	}{
		{PeriodDay, "2026-03-04", "2026-03-03", "2026-03-04", "2026-03-03"},
		{PeriodWeek, "2026-03-02", "2026-02-23", "2026-03-08", "2026-03-01"},
		{PeriodMonth, "2026-03-01", "2026-02-01", "2026-03-31", "2026-02-28"},
	} {
		cur, prev := tc.p.bounds(now)
		if dayName(cur.from) != tc.cur || dayName(prev.from) != tc.prev || dayName(cur.to) != tc.curStart || dayName(prev.to) != tc.prevStop {
			t.Errorf("%s: cur %s..%s prev %s..%s", tc.p, dayName(cur.from), dayName(cur.to), dayName(prev.from), dayName(prev.to))
		}
	}
	for _, s := range []string{"year", "Day", "7d", " month"} {
		if _, err := ParsePeriod(s); err != ErrBadPeriod {
			t.Errorf("period %q: %v", s, err)
		}
	}
	if p, err := ParsePeriod(""); err != nil || p != PeriodMonth {
		t.Errorf("default period %q %v", p, err)
	}
	for _, tc := range []struct {
		from, to string
		ok       bool
		days     int32
	}{
		{"", "", true, BandwidthDefaultDays},
		{"2026-01-01", "2026-01-01", true, 1},
		{"2026-01-01", "2026-04-02", true, 92},
		{"2026-01-01", "2026-04-03", false, 0},
		{"2026-02-01", "2026-01-01", false, 0},
		{"2026-02-30", "", false, 0},
		{"2026/01/01", "", false, 0},
		{"", "yesterday", false, 0},
	} {
		r, err := ParseRange(tc.from, tc.to, now)
		if (err == nil) != tc.ok || (tc.ok && r.to-r.from+1 != tc.days) {
			t.Errorf("range %q..%q: %+v %v", tc.from, tc.to, r, err)
		}
	}
}
