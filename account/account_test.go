package account

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/consensus/consensustest"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/storage"
)

func TestNormalizeEmail(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	long := local64 + "@" + strings.Repeat("b", 185) + ".com" // 254 bytes
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"ops@example.com", "ops@example.com"},
		{"  Ops@Example.COM\n", "ops@example.com"},
		{"first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"},
		{"ü@bücher.de", "ü@bücher.de"},
		{long, long},
		{local64 + "@example.com", local64 + "@example.com"},
		{"", ""},
		{"   ", ""},
		{"no-at-sign", ""},
		{"@example.com", ""},
		{"ops@", ""},
		{"Ops <ops@example.com>", ""},
		{"<ops@example.com>", ""},
		{`"o p"@example.com`, ""},
		{"ops@example.com (comment)", ""},
		{"a@b@example.com", ""},
		{"ops@exa mple.com", ""},
		{"o\x00ps@example.com", ""},
		{"o\x7fps@example.com", ""},
		{"ops@example.com\r\nBcc: x@example.com", ""},
		{"o\xffps@example.com", ""},
		{"a," + "b@example.com", ""},
		{"a@" + strings.Repeat("b", 248) + ".com", "a@" + strings.Repeat("b", 248) + ".com"}, // 254 bytes
		{"a@" + strings.Repeat("b", 249) + ".com", ""},                                       // 255 bytes
		{"a" + local64 + "@example.com", ""},                                                 // local part of 65
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.40q", tt.in), func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrBadEmail) {
					t.Fatalf("NormalizeEmail(%q) = %q, %v; want ErrBadEmail", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name, in, msg string // msg "" means accepted
	}{
		{"plain", "ci", ""},
		{"inner spaces and unicode", "déploiement nocturne – CI", ""},
		{"exactly the limit", strings.Repeat("n", MaxNameBytes), ""},
		{"limit in multibyte runes", strings.Repeat("é", MaxNameBytes/2), ""},
		{"empty", "", "is required"},
		{"over the limit", strings.Repeat("n", MaxNameBytes+1), "at most 100 bytes"},
		{"over the limit in bytes, not runes", strings.Repeat("é", MaxNameBytes/2+1), "at most 100 bytes"},
		{"invalid UTF-8", "ci\xff", "valid UTF-8"},
		{"NUL", "c\x00i", "control characters"},
		{"newline", "ci\nx", "control characters"},
		{"DEL", "ci\x7f", "control characters"},
		{"C1 control", "ci\u0085", "control characters"},
		{"leading space", " ci", "white space"},
		{"trailing space", "ci ", "white space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckName("name", tt.in)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("CheckName(%q): %v", tt.in, err)
				}
				return
			}
			if errkind.KindOf(err) != errkind.Invalid || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), `"name"`) {
				t.Fatalf("CheckName(%q) = %v, want Invalid naming the field and saying %q", tt.in, err, tt.msg)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	if id := newID(); !ValidID(id) {
		t.Fatalf("a new ID %q is not valid", id)
	}
	for _, id := range []string{"", "acct_", "acct_123", "acct_" + strings.Repeat("0", 23), "acct_" + strings.Repeat("0", 25),
		"acct_" + strings.Repeat("g", 24), "key_" + strings.Repeat("0", 24), strings.Repeat("a", 10000)} {
		if ValidID(id) {
			t.Errorf("ValidID(%.40q) = true", id)
		}
	}
}

// fixture is a single raft node with the account commands and two
// cascades that record the order they ran in.
type fixture struct {
	*consensustest.Node
	ctx      context.Context
	accounts *Service
	ran      []string
	failFor  string // the second cascade fails for this account
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{}
	first := func(tx *storage.Tx, id string) error {
		fx.ran = append(fx.ran, "first:"+id)
		return tx.Set([]byte("test-first/"+id), nil)
	}
	second := func(tx *storage.Tx, id string) error {
		fx.ran = append(fx.ran, "second:"+id)
		if id == fx.failFor {
			return errkind.New(errkind.Conflict, "cascade refused")
		}
		return nil
	}
	fx.Node = consensustest.Start(t, func(fsm *consensus.FSM) { Register(fsm, first, second) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	fx.ctx = ctx
	fx.accounts = NewService(fx.Raft, fx.State, plan.Defaults())
	return fx
}

// Emails are unique case-insensitively, plans must be in the catalog, and
// a plan change keeps everything else.
func TestCreateAndSetPlan(t *testing.T) {
	fx := newFixture(t)
	a, err := fx.accounts.Create(fx.ctx, " Ops@Example.com ", "pro")
	if err != nil {
		t.Fatal(err)
	}
	if a.Email != "ops@example.com" || a.Plan != "pro" || !ValidID(a.ID) {
		t.Fatalf("created %+v", a)
	}
	if _, err := fx.accounts.Create(fx.ctx, "OPS@example.COM", "free"); !errors.Is(err, ErrEmailTaken) {
		t.Fatalf("duplicate email: %v", err)
	}
	_, err = fx.accounts.Create(fx.ctx, "other@example.com", "platinum")
	if !errors.Is(err, ErrUnknownPlan) || !reflect.DeepEqual(errkind.Of(err).Fields["plans"], plan.Defaults().Names()) {
		t.Fatalf("unknown plan: %#v", errkind.Of(err))
	}
	if _, err := fx.accounts.Create(fx.ctx, strings.Repeat("a", 250)+"@example.com", "free"); !errors.Is(err, ErrBadEmail) {
		t.Fatalf("oversized email: %v", err)
	}

	got, err := fx.accounts.SetPlan(fx.ctx, a.ID, "agency")
	want := a
	want.Plan = "agency"
	if err != nil || got != want {
		t.Fatalf("set plan: %+v, %v; want %+v", got, err, want)
	}
	if stored, _ := Lookup(fx.State, a.ID); stored != want {
		t.Fatalf("stored %+v", stored)
	}
	if _, err := fx.accounts.SetPlan(fx.ctx, a.ID, "platinum"); !errors.Is(err, ErrUnknownPlan) {
		t.Fatalf("set unknown plan: %v", err)
	}
	if _, err := fx.accounts.SetPlan(fx.ctx, "acct_000000000000000000000000", "free"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("set plan of unknown account: %v", err)
	}
	if stored, _ := Lookup(fx.State, a.ID); stored != want {
		t.Fatalf("refused changes changed the account: %+v", stored)
	}

	b, err := fx.accounts.Create(fx.ctx, "b@example.com", "free")
	if err != nil {
		t.Fatal(err)
	}
	list, err := fx.accounts.List(fx.ctx)
	wantList := []Account{want, b}
	slices.SortFunc(wantList, func(x, y Account) int { return strings.Compare(x.ID, y.ID) })
	if err != nil || !reflect.DeepEqual(list, wantList) {
		t.Fatalf("list: %+v, %v", list, err)
	}
	fx.RequireDeterministic(t)
}

// An ID that cannot be an account's is refused before it reaches the raft
// log, whatever its length.
func TestMalformedIDsNeverReachRaft(t *testing.T) {
	fx := newFixture(t)
	before := fx.State.AppliedIndex()
	for _, id := range []string{"", "nope", strings.Repeat("x", 900_000), "acct_../../etc"} {
		if _, err := fx.accounts.SetPlan(fx.ctx, id, "free"); !errors.Is(err, ErrNotFound) {
			t.Errorf("set plan %.20q: %v", id, err)
		}
		if err := fx.accounts.Delete(fx.ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete %.20q: %v", id, err)
		}
	}
	last, _ := fx.DB.LogStore().LastIndex()
	if applied := fx.State.AppliedIndex(); applied != before {
		t.Fatalf("applied index moved from %d to %d (log at %d)", before, applied, last)
	}
}

// Delete runs every cascade, in order, in the account's transaction: a
// failing cascade leaves the account and every cascade's writes as they
// were. A deleted account's email is free again.
func TestDeleteRunsCascadesAtomically(t *testing.T) {
	fx := newFixture(t)
	a, err := fx.accounts.Create(fx.ctx, "gone@example.com", "free")
	if err != nil {
		t.Fatal(err)
	}
	b, err := fx.accounts.Create(fx.ctx, "stuck@example.com", "free")
	if err != nil {
		t.Fatal(err)
	}
	fx.failFor = b.ID
	if err := fx.accounts.Delete(fx.ctx, b.ID); errkind.KindOf(err) != errkind.Conflict {
		t.Fatalf("delete with a failing cascade: %v", err)
	}
	if _, err := Lookup(fx.State, b.ID); err != nil {
		t.Fatalf("a failed cascade deleted the account: %v", err)
	}
	if _, err := fx.State.Get([]byte("test-first/" + b.ID)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("the first cascade's write survived the second one's failure")
	}

	fx.ran = nil
	if err := fx.accounts.Delete(fx.ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if want := []string{"first:" + a.ID, "second:" + a.ID}; !reflect.DeepEqual(fx.ran, want) {
		t.Fatalf("cascades ran %v, want %v", fx.ran, want)
	}
	if _, err := fx.accounts.Get(fx.ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := fx.accounts.Delete(fx.ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	again, err := fx.accounts.Create(fx.ctx, "GONE@example.com", "pro")
	if err != nil || again.ID == a.ID {
		t.Fatalf("re-creating a deleted account's email: %+v, %v", again, err)
	}
	fx.RequireDeterministic(t) // failFor still set: replicas refuse b's delete too
}
