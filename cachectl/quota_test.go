package cachectl

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/consensus/consensustest"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/jobs"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/usage"
)

// consensusView is the node's raft (Fresh) and state machine (Applied,
// WaitApplied) as Service sees them.
type consensusView struct {
	*consensus.Raft
	*consensus.FSM
}

type fixture struct {
	*consensustest.Node
	ctx      context.Context
	accounts *account.Service
	domains  *domain.Service
	usage    *usage.Counter
	jobs     *jobs.Runner
	svc      *Service
}

// plans has a plan with a small quota and one without a limit.
var plans = plan.Catalog{
	"small":     {Name: "small", Sites: plan.Unlimited, MonthlyRenders: 10, APIAccess: true},
	"unlimited": {Name: "unlimited", Sites: plan.Unlimited, MonthlyRenders: plan.Unlimited, APIAccess: true},
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{}
	fx.Node = consensustest.Start(t, func(fsm *consensus.FSM) {
		account.Register(fsm, domain.ForAccount())
		domain.Register(fsm)
		usage.Register(fsm)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	fx.ctx = ctx
	fx.accounts = account.NewService(fx.Raft, fx.State, plans)
	fx.domains = domain.NewService(fx.Raft, fx.State, origin.Policy{AllowPrivate: true})
	fx.usage = usage.NewCounter("n1", fx.Raft, fx.State, quiet())
	fx.jobs = jobs.NewRunner("n1", nil, quiet())
	fx.svc = New(Config{
		Self: "n1", Raft: consensusView{fx.Raft, fx.Raft.FSM()}, State: fx.State, Domains: fx.domains,
		Jobs: fx.jobs, Usage: fx.usage, Plans: plans, Logger: quiet(),
		Members: func() []Member { return []Member{{Name: "n1"}} },
	})
	return fx
}

func (fx *fixture) site(t *testing.T, email, planName, host string, set domain.Settings) domain.Domain {
	t.Helper()
	a, err := fx.accounts.Create(fx.ctx, email, planName)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := plans.Lookup(planName)
	set.Origin = domain.To("http://127.0.0.1:1")
	d, err := fx.domains.Create(fx.ctx, a, p, host, set)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A domain's limit is its own override, else its plan's monthly renders;
// renders stop at QuotaFactor% of the limit and not before.
func TestQuota(t *testing.T) {
	fx := newFixture(t)
	small := fx.site(t, "small@example.com", "small", "small.example.com", domain.Settings{})
	override := fx.site(t, "override@example.com", "small", "override.example.com", domain.Settings{MonthlyRenderLimit: domain.To[int64](100)})
	zero := fx.site(t, "zero@example.com", "unlimited", "zero.example.com", domain.Settings{MonthlyRenderLimit: domain.To[int64](0)})
	free := fx.site(t, "free@example.com", "unlimited", "free.example.com", domain.Settings{})

	tests := []struct {
		name      string
		d         domain.Domain
		limit     int64
		renders   int // counted before the check
		allowed   bool
		bypassAt  int64
		wantUsage bool
	}{
		{"plan limit, under", small, 10, 11, true, 12, true},
		{"plan limit, at 120%", small, 10, 1, false, 12, true}, // 12 in total now
		{"override, under", override, 100, 119, true, 120, true},
		{"override, at 120%", override, 100, 1, false, 120, true},
		{"zero override renders nothing", zero, 0, 0, false, 0, true},
		{"unlimited plan", free, plan.Unlimited, 5000, true, -1, true},
		{"account gone: no limit", domain.Domain{Domain: "ghost.example.com", AccountID: "acct_000000000000000000000000"}, plan.Unlimited, 5000, true, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range tt.renders {
				fx.usage.Add(tt.d.Domain)
			}
			if got := fx.svc.Limit(tt.d); got != tt.limit {
				t.Fatalf("limit %d, want %d", got, tt.limit)
			}
			err := fx.svc.Allow(tt.d)
			if tt.allowed != (err == nil) || (err != nil && !errors.Is(err, ErrOverQuota)) {
				t.Fatalf("allow: %v, want allowed=%v", err, tt.allowed)
			}
			if !tt.wantUsage {
				return
			}
			u, err := fx.svc.DomainUsage(fx.ctx, tt.d.AccountID, tt.d.Domain)
			if err != nil {
				t.Fatal(err)
			}
			total, _ := fx.usage.Total(tt.d.Domain)
			if u.Limit != tt.limit || u.BypassAt != tt.bypassAt || u.Renders != total || u.Bypassed == tt.allowed || u.Month != usage.Month(time.Now()) {
				t.Fatalf("usage %+v (total %d)", u, total)
			}
		})
	}
	if _, err := fx.svc.DomainUsage(fx.ctx, free.AccountID, small.Domain); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("another account's usage: %v", err)
	}
}

// Jobs are the account's own: another account's job is not found.
func TestJobOwnership(t *testing.T) {
	fx := newFixture(t)
	j, err := fx.jobs.Submit("refresh", "acct_a", "a.example.com", "/")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fx.svc.Job(fx.ctx, "acct_a", j.ID); err != nil || got.ID != j.ID {
		t.Fatalf("own job: %+v, %v", got, err)
	}
	for _, tc := range []struct{ account, id string }{{"acct_b", j.ID}, {"acct_a", "refresh_nope"}} {
		if _, err := fx.svc.Job(fx.ctx, tc.account, tc.id); !errors.Is(err, jobs.ErrNotFound) {
			t.Errorf("job %s as %s: %v", tc.id, tc.account, err)
		}
	}
}

// The Script API's keys are parsed before anything is read or written:
// malformed ones are Invalid, well-formed ones for domains the account
// does not hold are not found.
func TestInvalidateKeys(t *testing.T) {
	fx := newFixture(t)
	before := fx.State.AppliedIndex()
	for _, key := range []string{"", "render", "render:", "page:a.example.com", "render:a.example.com:no-slash", "render/a.example.com", "render/" + strings.Repeat("x", 300)} {
		if err := fx.svc.Invalidate(fx.ctx, "acct_a", key); errkind.KindOf(err) != errkind.Invalid {
			t.Errorf("Invalidate(%.40q) = %v, want Invalid", key, err)
		}
	}
	for _, key := range []string{"render:a.example.com", "render:a.example.com:/page"} {
		if err := fx.svc.Invalidate(fx.ctx, "acct_a", key); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Invalidate(%q) = %v, want not found", key, err)
		}
	}
	if after := fx.State.AppliedIndex(); after != before {
		t.Fatalf("refused invalidations wrote to raft: %d → %d", before, after)
	}
	if got := CacheKey("a.example.com", "/p?q=1"); got != "render:a.example.com:/p?q=1" {
		t.Fatalf("CacheKey: %s", got)
	}
}
