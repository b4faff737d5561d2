package domain

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/consensus/consensustest"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/storage"
)

// fixture is a single raft node with the account and domain commands, and
// a cascade that records which domains it was asked to clean up.
type fixture struct {
	*consensustest.Node
	ctx      context.Context
	accounts *account.Service
	domains  *Service

	mu      sync.Mutex
	cleaned []string
}

func newFixture(t *testing.T, policy origin.Policy) *fixture {
	t.Helper()
	fx := &fixture{}
	cascade := func(tx *storage.Tx, host string) error {
		fx.mu.Lock()
		fx.cleaned = append(fx.cleaned, host)
		fx.mu.Unlock()
		return tx.Set([]byte("test-cleaned/"+host), nil)
	}
	fx.Node = consensustest.Start(t, func(fsm *consensus.FSM) {
		account.Register(fsm, ForAccount(cascade))
		Register(fsm, cascade)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	fx.ctx = ctx
	fx.accounts = account.NewService(fx.Raft, fx.State, plan.Defaults())
	fx.domains = NewService(fx.Raft, fx.State, policy)
	return fx
}

func (fx *fixture) account(t *testing.T, email string) account.Account {
	t.Helper()
	a, err := fx.accounts.Create(fx.ctx, email, "agency")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var anyPlan = plan.Plan{Sites: plan.Unlimited}

func (fx *fixture) create(t *testing.T, a account.Account, host string, set Settings) Domain {
	t.Helper()
	d, err := fx.domains.Create(fx.ctx, a, anyPlan, host, set)
	if err != nil {
		t.Fatalf("create %s: %v", host, err)
	}
	return d
}

// stored reads the committed domain, as every node would serve it.
func (fx *fixture) stored(t *testing.T, host string) Domain {
	t.Helper()
	d, err := Lookup(fx.State, host)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A create is a partial update of the defaults: settings it leaves out,
// inside render too, keep their defaults. The case: a render
// object naming only the timeout keeps resource and tracker blocking.
func TestCreateFillsDefaults(t *testing.T) {
	fx := newFixture(t, origin.Policy{AllowPrivate: true})
	a := fx.account(t, "create@example.com")
	tests := []struct {
		name, host string
		set        Settings
		want       func(d *Domain)
	}{
		{"origin only", "a.example.com", Settings{Origin: To("HTTP://127.0.0.1:8080/")}, func(d *Domain) {}},
		{"render timeout only", "b.example.com", Settings{Origin: To("http://127.0.0.1:8080"), Render: To(RenderPatch{TimeoutMs: To(5000)})},
			func(d *Domain) { d.Render.TimeoutMs = 5000 }},
		{"everything", "c.example.com", Settings{Origin: To("http://127.0.0.1:8080"), CacheTTL: To(60), MonthlyRenderLimit: To[int64](9),
			Render: To(RenderPatch{TimeoutMs: To(1000), BlockResources: To([]string{"other"}), BlockTrackers: To(false)})},
			func(d *Domain) {
				d.CacheTTL, d.MonthlyRenderLimit = 60, ptr[int64](9)
				d.Render = RenderSettings{TimeoutMs: 1000, BlockResources: []string{"other"}}
			}},
		{"quality and recache", "d.example.com", Settings{Origin: To("http://127.0.0.1:8080"),
			Quality: To(QualityPatch{SoftErrorMarkers: To([]string{"Oops"})}), Recache: To(RecachePatch{LeadFraction: To(0.5)})},
			func(d *Domain) {
				d.Quality.SoftErrorMarkers = []string{"Oops"}
				d.Recache.LeadFraction = 0.5
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fx.create(t, a, tt.host, tt.set)
			want := Domain{Domain: tt.host, AccountID: a.ID, Origin: "http://127.0.0.1:8080", CacheTTL: DefaultCacheTTL,
				Render: DefaultRender(), Quality: DefaultQuality(), Recache: DefaultRecache(), CreatedAt: got.CreatedAt, UpdatedAt: got.CreatedAt}
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("created\n got %+v\nwant %+v", got, want)
			}
			if stored := fx.stored(t, tt.host); !reflect.DeepEqual(stored, want) {
				t.Fatalf("stored %+v, want %+v", stored, want)
			}
		})
	}
	for name, set := range map[string]Settings{
		"no origin":    {},
		"null origin":  {Origin: Reset[string]()},
		"empty origin": {Origin: To("")},
	} {
		if _, err := fx.domains.Create(fx.ctx, a, anyPlan, "x.example.com", set); errkind.KindOf(err) != errkind.Invalid {
			t.Errorf("create with %s: %v, want Invalid", name, err)
		}
	}
	fx.RequireDeterministic(t)
}

// Through raft, each field updated alone changes only itself; an update
// that changes nothing writes nothing, not even updatedAt.
func TestUpdateChangesOnlyWhatItNames(t *testing.T) {
	fx := newFixture(t, origin.Policy{AllowPrivate: true})
	a := fx.account(t, "update@example.com")
	host := "u.example.com"
	fx.create(t, a, host, Settings{Origin: To("http://127.0.0.1:1"), CacheTTL: To(3600), MonthlyRenderLimit: To[int64](42),
		Render: To(RenderPatch{TimeoutMs: To(5000), BlockResources: To([]string{"stylesheet"}), BlockTrackers: To(false)})})
	tick := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	fx.domains.now = func() time.Time { tick = tick.Add(time.Second); return tick }

	tests := []struct {
		name string
		set  Settings
		want func(d *Domain)
	}{
		{"origin", Settings{Origin: To("http://127.0.0.1:2")}, func(d *Domain) { d.Origin = "http://127.0.0.1:2" }},
		{"cacheTtl", Settings{CacheTTL: To(120)}, func(d *Domain) { d.CacheTTL = 120 }},
		{"render.timeoutMs", Settings{Render: To(RenderPatch{TimeoutMs: To(7000)})}, func(d *Domain) { d.Render.TimeoutMs = 7000 }},
		{"render.blockResources", Settings{Render: To(RenderPatch{BlockResources: To([]string{"image", "font"})})},
			func(d *Domain) { d.Render.BlockResources = []string{"font", "image"} }},
		{"render.blockTrackers", Settings{Render: To(RenderPatch{BlockTrackers: To(true)})}, func(d *Domain) { d.Render.BlockTrackers = true }},
		{"monthlyRenderLimit", Settings{MonthlyRenderLimit: To[int64](7)}, func(d *Domain) { d.MonthlyRenderLimit = ptr[int64](7) }},
		{"monthlyRenderLimit null", Settings{MonthlyRenderLimit: Reset[int64]()}, func(d *Domain) { d.MonthlyRenderLimit = nil }},
		{"cacheTtl null", Settings{CacheTTL: Reset[int]()}, func(d *Domain) { d.CacheTTL = DefaultCacheTTL }},
		{"render null", Settings{Render: Reset[RenderPatch]()}, func(d *Domain) { d.Render = DefaultRender() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := fx.stored(t, host)
			tt.want(&want)
			want.UpdatedAt = tick.Add(time.Second)
			got, err := fx.domains.Update(fx.ctx, a.ID, host, tt.set)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("answer\n got %+v\nwant %+v", got, want)
			}
			if stored := fx.stored(t, host); !reflect.DeepEqual(stored, want) {
				t.Fatalf("stored\n got %+v\nwant %+v", stored, want)
			}
		})
	}
	t.Run("no change", func(t *testing.T) {
		before := fx.stored(t, host)
		for _, set := range []Settings{{}, {CacheTTL: To(before.CacheTTL)}, {Render: To(RenderPatch{})}} {
			got, err := fx.domains.Update(fx.ctx, a.ID, "U.Example.com.", set)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, before) || !reflect.DeepEqual(fx.stored(t, host), before) {
				t.Fatalf("update %+v changed the domain: %+v, was %+v", set, got, before)
			}
		}
	})
	t.Run("refused", func(t *testing.T) {
		before := fx.stored(t, host)
		for _, set := range []Settings{{Origin: Reset[string]()}, {CacheTTL: To(1)}, {Render: To(RenderPatch{TimeoutMs: To(1)})}} {
			if _, err := fx.domains.Update(fx.ctx, a.ID, host, set); errkind.KindOf(err) != errkind.Invalid {
				t.Fatalf("update %+v: %v, want Invalid", set, err)
			}
		}
		if !reflect.DeepEqual(fx.stored(t, host), before) {
			t.Fatal("a refused update changed the domain")
		}
	})
	fx.RequireDeterministic(t)
}

// Updates of different fields racing each other all take effect: the
// merge runs in Apply on the committed domain, not on each caller's read.
func TestConcurrentUpdatesOfDifferentFieldsAllTakeEffect(t *testing.T) {
	fx := newFixture(t, origin.Policy{AllowPrivate: true})
	a := fx.account(t, "race@example.com")
	for round := range 5 {
		host := fmt.Sprintf("r%d.example.com", round)
		fx.create(t, a, host, Settings{Origin: To("http://127.0.0.1:1")})
		sets := []Settings{
			{Origin: To("http://127.0.0.1:2")},
			{CacheTTL: To(120)},
			{Render: To(RenderPatch{TimeoutMs: To(7000)})},
			{Render: To(RenderPatch{BlockResources: To([]string{"media"})})},
			{Render: To(RenderPatch{BlockTrackers: To(false)})},
			{MonthlyRenderLimit: To[int64](5)},
		}
		var wg sync.WaitGroup
		for _, set := range sets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := fx.domains.Update(fx.ctx, a.ID, host, set); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		d := fx.stored(t, host)
		want := RenderSettings{TimeoutMs: 7000, BlockResources: []string{"media"}, BlockTrackers: false}
		if d.Origin != "http://127.0.0.1:2" || d.CacheTTL != 120 || !reflect.DeepEqual(d.Render, want) || d.MonthlyRenderLimit == nil || *d.MonthlyRenderLimit != 5 {
			t.Fatalf("round %d: an update was lost: %+v", round, d)
		}
	}
	fx.RequireDeterministic(t)
}

// The origin policy applies to creates and to updates.
func TestOriginPolicyAppliesToUpdates(t *testing.T) {
	fx := newFixture(t, origin.Policy{})
	a := fx.account(t, "policy@example.com")
	for _, o := range []string{"http://127.0.0.1", "http://10.0.0.1", "http://[::1]:8080"} {
		if _, err := fx.domains.Create(fx.ctx, a, anyPlan, "p.example.com", Settings{Origin: To(o)}); err == nil {
			t.Errorf("created with private origin %s", o)
		}
	}
	fx.create(t, a, "p.example.com", Settings{Origin: To("http://93.184.215.14")})
	if _, err := fx.domains.Update(fx.ctx, a.ID, "p.example.com", Settings{Origin: To("http://169.254.169.254")}); err == nil {
		t.Error("updated to a link-local origin")
	}
	if d := fx.stored(t, "p.example.com"); d.Origin != "http://93.184.215.14" {
		t.Errorf("origin is %s after a refused update", d.Origin)
	}
}

// Site limits are checked in Apply against the committed count; a host
// belongs to one account; every other account sees it as not found.
func TestSiteLimitOwnershipAndConflicts(t *testing.T) {
	fx := newFixture(t, origin.Policy{AllowPrivate: true})
	a, b := fx.account(t, "a@example.com"), fx.account(t, "b@example.com")
	set := Settings{Origin: To("http://127.0.0.1:1")}
	two := plan.Plan{Sites: 2}

	for i, host := range []string{"one.example.com", "two.example.com"} {
		if _, err := fx.domains.Create(fx.ctx, a, two, host, set); err != nil {
			t.Fatalf("domain %d within the limit: %v", i+1, err)
		}
	}
	_, err := fx.domains.Create(fx.ctx, a, two, "three.example.com", set)
	e := errkind.Of(err)
	if !errors.Is(err, ErrSiteLimit) || fmt.Sprint(e.Fields["current"], e.Fields["allowed"]) != "2 2" {
		t.Fatalf("third domain on a 2-site plan: %#v", e)
	}
	if _, err := fx.domains.Create(fx.ctx, a, plan.Plan{Sites: 0}, "zero.example.com", set); !errors.Is(err, ErrSiteLimit) {
		t.Fatalf("a plan with no sites: %v", err)
	}
	if _, err := fx.domains.Create(fx.ctx, b, anyPlan, "ONE.example.com.", set); !errors.Is(err, ErrTaken) {
		t.Fatalf("another account registering a taken host: %v", err)
	}
	if _, err := fx.domains.Create(fx.ctx, a, anyPlan, "one.example.com", set); !errors.Is(err, ErrTaken) {
		t.Fatalf("the owner registering its host again: %v", err)
	}
	if _, err := fx.domains.Create(fx.ctx, account.Account{ID: "acct_000000000000000000000000"}, anyPlan, "ghost.example.com", set); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("a domain for an unknown account: %v", err)
	}

	// b cannot read, change, purge or delete a's domain.
	if _, err := fx.domains.Get(fx.ctx, b.ID, "one.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get as another account: %v", err)
	}
	if _, err := fx.domains.Update(fx.ctx, b.ID, "one.example.com", Settings{CacheTTL: To(60)}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update as another account: %v", err)
	}
	if err := fx.domains.Purge(fx.ctx, Domain{Domain: "one.example.com", AccountID: b.ID}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("purge as another account: %v", err)
	}
	if err := fx.domains.Delete(fx.ctx, b.ID, "one.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete as another account: %v", err)
	}
	for _, bad := range []string{"", "not a host", "http://one.example.com"} {
		if _, err := fx.domains.Update(fx.ctx, a.ID, bad, Settings{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("update of %q: %v", bad, err)
		}
	}
	if d := fx.stored(t, "one.example.com"); d.AccountID != a.ID || d.CacheTTL != DefaultCacheTTL || d.CacheVersion != 0 {
		t.Errorf("a's domain changed: %+v", d)
	}
	list, err := fx.domains.List(fx.ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].Domain != "one.example.com" || list[1].Domain != "two.example.com" {
		t.Errorf("a's list: %+v %v", list, err)
	}
	if list, _ := fx.domains.List(fx.ctx, b.ID); len(list) != 0 {
		t.Errorf("b's list shows a's domains: %+v", list)
	}
	fx.RequireDeterministic(t)
}

// A domain purge bumps its cache version and forgets path versions; a path
// purge bumps only that path. Versions start with the creation time, so a
// host registered again never meets its predecessor's pages.
func TestPurgeVersions(t *testing.T) {
	fx := newFixture(t, origin.Policy{AllowPrivate: true})
	a := fx.account(t, "purge@example.com")
	host := "v.example.com"
	tick := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	fx.domains.now = func() time.Time { tick = tick.Add(time.Second); return tick }
	d := fx.create(t, a, host, Settings{Origin: To("http://127.0.0.1:1")})
	version := func(path string) string { return Version(fx.State, fx.stored(t, host), path) }

	v0, p0 := version("/other"), version("/page")
	if v0 != p0 {
		t.Fatalf("fresh domain: /other %s, /page %s", v0, p0)
	}
	if err := fx.domains.Purge(fx.ctx, d, []string{"/page"}); err != nil {
		t.Fatal(err)
	}
	p1 := version("/page")
	if version("/other") != v0 || p1 == p0 {
		t.Fatalf("path purge: /other %s (was %s), /page %s (was %s)", version("/other"), v0, p1, p0)
	}
	if n, _ := PathVersion(fx.State, host, "/page"); n != 1 {
		t.Fatalf("path version %d, want 1", n)
	}
	if err := fx.domains.Purge(fx.ctx, d, nil); err != nil {
		t.Fatal(err)
	}
	if got := fx.stored(t, host); got.CacheVersion != 1 {
		t.Fatalf("cache version %d after a domain purge", got.CacheVersion)
	}
	if n, _ := PathVersion(fx.State, host, "/page"); n != 0 {
		t.Fatalf("path version %d survived a domain purge", n)
	}
	v2 := version("/other")
	if v2 == v0 || version("/page") != v2 {
		t.Fatalf("domain purge: /other %s, /page %s (were %s, %s)", v2, version("/page"), v0, p1)
	}
	// An update keeps the cache version and creation time.
	if _, err := fx.domains.Update(fx.ctx, a.ID, host, Settings{CacheTTL: To(600)}); err != nil {
		t.Fatal(err)
	}
	if version("/other") != v2 {
		t.Fatal("an update changed the cache version")
	}
	if err := fx.domains.Delete(fx.ctx, a.ID, host); err != nil {
		t.Fatal(err)
	}
	fx.create(t, a, host, Settings{Origin: To("http://127.0.0.1:1")})
	if v := version("/other"); v == v0 || v == v2 {
		t.Fatalf("a re-registered host reuses version %s", v)
	}
	fx.RequireDeterministic(t)
}

// Deleting a domain runs the cascades with its host and removes its path
// versions and index entry; deleting an account deletes all its domains.
func TestDeleteCascades(t *testing.T) {
	fx := newFixture(t, origin.Policy{AllowPrivate: true})
	a, b := fx.account(t, "del-a@example.com"), fx.account(t, "del-b@example.com")
	set := Settings{Origin: To("http://127.0.0.1:1")}
	d := fx.create(t, a, "d1.example.com", set)
	fx.create(t, a, "d2.example.com", set)
	fx.create(t, b, "b.example.com", set)
	if err := fx.domains.Purge(fx.ctx, d, []string{"/x"}); err != nil {
		t.Fatal(err)
	}
	if err := fx.domains.Delete(fx.ctx, a.ID, "D1.example.com"); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{prefixDomain + "d1.example.com", prefixPathVersion + "d1.example.com/", prefixAccount + a.ID + "/d1.example.com"} {
		if n, _ := record.Count(fx.State, prefix); n != 0 {
			t.Errorf("%s left behind after delete", prefix)
		}
	}
	if err := fx.domains.Delete(fx.ctx, a.ID, "d1.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if err := fx.accounts.Delete(fx.ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup(fx.State, "d2.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("account delete left d2: %v", err)
	}
	if _, err := Lookup(fx.State, "b.example.com"); err != nil {
		t.Errorf("account delete took another account's domain: %v", err)
	}
	fx.mu.Lock()
	cleaned := slices.Clone(fx.cleaned)
	fx.mu.Unlock()
	if !reflect.DeepEqual(cleaned, []string{"d1.example.com", "d2.example.com"}) {
		t.Errorf("cascades ran for %v", cleaned)
	}
	fx.RequireDeterministic(t)
}
