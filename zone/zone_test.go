package zone

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/consensus/consensustest"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/plan"
)

// fixture is a single raft node with the account and zone commands.
type fixture struct {
	*consensustest.Node
	ctx      context.Context
	accounts *account.Service
	zones    *Service
}

func newFixture(t *testing.T, policy origin.Policy) *fixture {
	t.Helper()
	fx := &fixture{}
	fx.Node = consensustest.Start(t, func(fsm *consensus.FSM) {
		account.Register(fsm, ForAccount)
		Register(fsm)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	fx.ctx = ctx
	fx.accounts = account.NewService(fx.Raft, fx.State, plan.Defaults())
	fx.zones = NewService(fx.Raft, fx.State, policy)
	return fx
}

func (fx *fixture) account(t *testing.T, email string) account.Account {
	t.Helper()
	a, err := fx.accounts.Create(fx.ctx, email, "pro")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var (
	private  = origin.Policy{AllowPrivate: true}
	twoZones = plan.Plan{Zones: 2}
	originA  = "http://127.0.0.1:9000"
)

func (fx *fixture) create(t *testing.T, a account.Account, m Mode, name string) Zone {
	t.Helper()
	z, err := fx.zones.Create(fx.ctx, a, twoZones, m, name, originA)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return z
}

func wantKind(t *testing.T, what string, err error, k errkind.Kind) {
	t.Helper()
	if errkind.KindOf(err) != k {
		t.Fatalf("%s: %v (%v), want %v", what, err, errkind.KindOf(err), k)
	}
}

func TestCreateAndRead(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	z, err := fx.zones.Create(fx.ctx, a, twoZones, Live, " My-Assets ", "HTTP://127.0.0.1:9000/")
	if err != nil {
		t.Fatal(err)
	}
	if !ValidID(z.ID) || z.Name != "my-assets" || z.Origin != originA || !z.Active || z.Mode != Live || z.AccountID != a.ID {
		t.Fatalf("created %+v", z)
	}
	got, err := fx.zones.Get(fx.ctx, a.ID, Live, z.ID)
	if err != nil || got != z {
		t.Fatalf("get: %+v, %v; want %+v", got, err, z)
	}
	byName, err := ByName(fx.State, "my-assets")
	if err != nil || byName != z {
		t.Fatalf("by name: %+v, %v", byName, err)
	}
	list, err := fx.zones.List(fx.ctx, a.ID, Live)
	if err != nil || len(list) != 1 || list[0] != z {
		t.Fatalf("list live: %+v, %v", list, err)
	}
	if list, err := fx.zones.List(fx.ctx, a.ID, Test); err != nil || len(list) != 0 {
		t.Fatalf("list test: %+v, %v", list, err)
	}
	fx.RequireDeterministic(t)
}

func TestCreateRefusals(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	b := fx.account(t, "b@example.com")
	fx.create(t, a, Live, "taken")
	tests := []struct {
		name         string
		acct         account.Account
		mode         Mode
		zone, origin string
		want         errkind.Kind
	}{
		{"duplicate, other account", b, Live, "taken", originA, errkind.Conflict},
		{"duplicate, other mode", a, Test, "TAKEN", originA, errkind.Conflict},
		{"no name", a, Live, "", originA, errkind.Invalid},
		{"not a label", a, Live, "a.b", originA, errkind.Invalid},
		{"leading dash", a, Live, "-a", originA, errkind.Invalid},
		{"too long", a, Live, string(make([]byte, 64)), originA, errkind.Invalid},
		{"no origin", a, Live, "x", "", errkind.Invalid},
		{"bad origin", a, Live, "x", "ftp://example.com", errkind.Invalid},
		{"huge origin", a, Live, "x", "http://example.com/" + string(make([]byte, 1<<20)), errkind.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fx.zones.Create(fx.ctx, tt.acct, twoZones, tt.mode, tt.zone, tt.origin)
			wantKind(t, tt.name, err, tt.want)
		})
	}
	fx.RequireDeterministic(t)
}

func TestOriginPolicy(t *testing.T) {
	fx := newFixture(t, origin.Policy{})
	a := fx.account(t, "a@example.com")
	for _, o := range []string{"http://127.0.0.1:9000", "http://10.0.0.1", "http://[::1]/"} {
		if _, err := fx.zones.Create(fx.ctx, a, twoZones, Live, "z", o); !errors.Is(err, origin.ErrBlockedAddr) {
			t.Errorf("origin %s: %v, want ErrBlockedAddr", o, err)
		}
	}
}

// Live zones count against the plan; test zones never do.
func TestZoneLimit(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	fx.create(t, a, Live, "one")
	fx.create(t, a, Live, "two")
	_, err := fx.zones.Create(fx.ctx, a, twoZones, Live, "three", originA)
	if !errors.Is(err, ErrZoneLimit) {
		t.Fatalf("third live zone: %v, want ErrZoneLimit", err)
	}
	e := errkind.Of(err)
	if e.Fields["current"] != float64(2) && e.Fields["current"] != 2 || e.Fields["allowed"] != float64(2) && e.Fields["allowed"] != 2 {
		t.Fatalf("fields %v, want current 2 allowed 2", e.Fields)
	}
	for _, n := range []string{"t1", "t2", "t3"} {
		fx.create(t, a, Test, n)
	}
	if _, err := fx.zones.Create(fx.ctx, a, plan.Plan{Zones: plan.Unlimited}, Live, "three", originA); err != nil {
		t.Fatalf("unlimited plan: %v", err)
	}
	fx.RequireDeterministic(t)
}

// Another account's zone is not found; the account's own zone of the
// other mode is forbidden, on every operation.
func TestOwnershipAndModes(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	b := fx.account(t, "b@example.com")
	z := fx.create(t, a, Live, "mine")
	name := "renamed"
	ops := map[string]func(acct string, m Mode) error{
		"get": func(acct string, m Mode) error { _, err := fx.zones.Get(fx.ctx, acct, m, z.ID); return err },
		"update": func(acct string, m Mode) error {
			_, err := fx.zones.Update(fx.ctx, acct, m, z.ID, Patch{Name: &name})
			return err
		},
		"purge": func(acct string, m Mode) error {
			_, err := fx.zones.Purge(fx.ctx, acct, m, z.ID, Target{Kind: KindZone})
			return err
		},
		"delete": func(acct string, m Mode) error { return fx.zones.Delete(fx.ctx, acct, m, z.ID) },
	}
	for op, f := range ops {
		wantKind(t, op+" by another account", f(b.ID, Live), errkind.NotFound)
		wantKind(t, op+" in test mode", f(a.ID, Test), errkind.Forbidden)
	}
	if got, err := fx.zones.Get(fx.ctx, a.ID, Live, z.ID); err != nil || got != z {
		t.Fatalf("zone changed by refused operations: %+v, %v", got, err)
	}
	if _, err := fx.zones.Get(fx.ctx, a.ID, Live, "zone_../x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("malformed id: %v", err)
	}
	fx.RequireDeterministic(t)
}

func TestUpdateAndDelete(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	z := fx.create(t, a, Live, "old")
	fx.create(t, a, Test, "other")
	name, off, o := "New", false, "http://127.0.0.1:9001"
	got, err := fx.zones.Update(fx.ctx, a.ID, Live, z.ID, Patch{Name: &name, Active: &off, Origin: &o})
	if err != nil || got.Name != "new" || got.Active || got.Origin != o || got.Created != z.Created {
		t.Fatalf("update: %+v, %v", got, err)
	}
	if _, err := ByName(fx.State, "old"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old name still maps: %v", err)
	}
	taken := "other"
	_, err = fx.zones.Update(fx.ctx, a.ID, Live, z.ID, Patch{Name: &taken})
	wantKind(t, "rename to a taken name", err, errkind.Conflict)
	if _, err := fx.zones.Purge(fx.ctx, a.ID, Live, z.ID, Target{Kind: KindPath, Value: "/a.css"}); err != nil {
		t.Fatal(err)
	}
	if err := fx.zones.Delete(fx.ctx, a.ID, Live, z.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.zones.Get(fx.ctx, a.ID, Live, z.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted zone: %v", err)
	}
	if _, err := ByName(fx.State, "new"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted zone's name: %v", err)
	}
	// The name is free again, and the live slot too.
	fx.create(t, a, Live, "new")
	fx.RequireDeterministic(t)
}

func TestAccountDeletionCascades(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	fx.create(t, a, Live, "l")
	fx.create(t, a, Test, "t")
	if err := fx.accounts.Delete(fx.ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"l", "t"} {
		if _, err := ByName(fx.State, n); !errors.Is(err, ErrNotFound) {
			t.Fatalf("zone %s survived its account: %v", n, err)
		}
	}
	fx.RequireDeterministic(t)
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name, path, tag string
		soft            bool
		want            Target
		bad             bool
	}{
		{"zone", "", "", false, Target{Kind: KindZone}, false},
		{"soft zone", "", "", true, Target{Kind: KindZone, Soft: true}, false},
		{"path", "/assets/v2/reset.css", "", false, Target{Kind: KindPath, Value: "/assets/v2/reset.css"}, false},
		{"dot segments", "/a/../b.css", "", false, Target{Kind: KindPath, Value: "/b.css"}, false},
		{"prefix", "/assets/*", "", false, Target{Kind: KindPrefix, Value: "/assets/"}, false},
		{"root prefix", "/*", "", false, Target{Kind: KindPrefix, Value: "/"}, false},
		{"tag", "", " product-42 ", true, Target{Kind: KindTag, Value: "product-42", Soft: true}, false},
		{"relative", "a.css", "", false, Target{}, true},
		{"mid-segment prefix", "/assets*", "", false, Target{}, true},
		{"nul", "/a%00b", "", false, Target{}, true},
		{"both", "/a", "t", false, Target{}, true},
		{"tag with comma", "", "a,b", false, Target{}, true},
		{"long tag", "", string(make([]byte, 300)), false, Target{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTarget(tt.path, tt.tag, tt.soft)
			if tt.bad {
				wantKind(t, tt.name, err, errkind.Invalid)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// Each purge kind moves exactly the versions it names: hard ones change
// the key of the paths they cover, soft ones the soft count, tags their
// own counter.
func TestPurgeVersions(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	z := fx.create(t, a, Live, "p")
	paths := []string{"/assets/v2/reset.css", "/assets/app.js", "/img/logo.png"}
	snapshot := func() map[string]Versions {
		cur, err := Lookup(fx.State, z.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Versions{}
		for _, p := range paths {
			out[p] = VersionsOf(fx.State, cur, p)
		}
		return out
	}
	purge := func(path, tag string, soft bool) {
		t.Helper()
		tg, err := ParseTarget(path, tag, soft)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.zones.Purge(fx.ctx, a.ID, Live, z.ID, tg); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name, path, tag string
		soft            bool
		keyMoved        []string
		softMoved       []string
	}{
		{"path", "/assets/app.js", "", false, []string{"/assets/app.js"}, nil},
		{"prefix", "/assets/*", "", false, []string{"/assets/v2/reset.css", "/assets/app.js"}, nil},
		{"nested prefix", "/assets/v2/*", "", false, []string{"/assets/v2/reset.css"}, nil},
		{"soft path", "/img/logo.png", "", true, nil, []string{"/img/logo.png"}},
		{"soft prefix", "/assets/*", "", true, nil, []string{"/assets/v2/reset.css", "/assets/app.js"}},
		{"tag", "", "t1", false, nil, nil},
		{"soft zone", "", "", true, nil, paths},
		// A hard zone purge resets the finer counters, soft ones included.
		{"zone", "", "", false, paths, paths},
	}
	for _, st := range steps {
		before := snapshot()
		purge(st.path, st.tag, st.soft)
		after := snapshot()
		for _, p := range paths {
			keyMoved := before[p].Key != after[p].Key
			softMoved := before[p].Soft != after[p].Soft
			if keyMoved != slices.Contains(st.keyMoved, p) || softMoved != slices.Contains(st.softMoved, p) {
				t.Errorf("%s purge: %s key moved %v, soft moved %v", st.name, p, keyMoved, softMoved)
			}
		}
	}
	if h, s := TagVersion(fx.State, z.ID, "t1"); h != 0 || s != 0 {
		t.Errorf("tag t1 after a zone purge: %d/%d, want reset", h, s)
	}
	purge("", "t1", false)
	purge("", "t1", true)
	if h, s := TagVersion(fx.State, z.ID, "t1"); h != 1 || s != 1 {
		t.Errorf("tag t1: %d/%d, want 1/1", h, s)
	}
	_, err := fx.zones.Purge(fx.ctx, a.ID, Live, z.ID, Target{Kind: "bogus"})
	wantKind(t, "bogus kind", err, errkind.Invalid)
	fx.RequireDeterministic(t)
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"my-assets", "A", "-x", "a.b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeName(s)
		if err != nil {
			return
		}
		if again, err := NormalizeName(n); err != nil || again != n || len(n) > MaxNameLen {
			t.Fatalf("%q → %q not stable", s, n)
		}
	})
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range [][2]string{{"/assets/v2/reset.css", ""}, {"/assets/*", ""}, {"", "product-1"}, {"/a/../b", ""}, {"/%00", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, path, tag string) {
		tg, err := ParseTarget(path, tag, false)
		if err != nil {
			return
		}
		if !tg.valid() || len(tg.Value) > MaxPurgeValueLen+1 {
			t.Fatalf("ParseTarget(%q, %q) = %+v, which Apply refuses", path, tag, tg)
		}
	})
}
