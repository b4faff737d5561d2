package tenant

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCacheRefreshHooks(t *testing.T) {
	fx := newFixture(t, private)
	own := fx.account(t, "own@example.com")
	ed := fx.account(t, "ed@example.com")
	fx.create(t, own, "acme")
	fx.member(t, as(own), "acme", ed, Editor)

	if _, err := fx.tenants.CreateHook(fx.ctx, as(own), "acme", "wordpress", true, false); !errors.Is(err, ErrBadProvider) {
		t.Fatalf("bad provider: %v", err)
	}
	if _, err := fx.tenants.CreateHook(fx.ctx, as(ed), "acme", "contentful", true, false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("editor creates: %v", err)
	}
	c, err := fx.tenants.CreateHook(fx.ctx, as(own), "acme", "contentful", true, true)
	if err != nil || !ValidHookID(c.Hook.ID) || !strings.HasPrefix(c.Secret, HookSecretPrefix) || c.Path != "/api/webhooks/cache-refresh/"+c.Hook.ID+"/"+c.Secret {
		t.Fatalf("create: %+v %v", c, err)
	}
	list, err := fx.tenants.Hooks(fx.ctx, as(ed), "acme")
	if err != nil || len(list) != 1 || list[0].ID != c.Hook.ID || !list[0].Enabled || list[0].LastTriggeredAt != nil {
		t.Fatalf("list: %+v %v", list, err)
	}
	if b, _ := json.Marshal(list); strings.Contains(string(b), "ecret") || strings.Contains(string(b), "ash") {
		t.Fatalf("list shows a secret or hash: %s", b)
	}
	f, err := fx.tenants.Receive(fx.ctx, c.Hook.ID, c.Secret, "Entry.publish", time.Now())
	if err != nil || !f.Refreshed || f.Versions != (Versions{2, 2, 1}) {
		t.Fatalf("receive: %+v %v", f, err)
	}
	// Every auth failure is the same ErrHookNotFound.
	other, err := fx.tenants.CreateHook(fx.ctx, as(own), "acme", "generic", true, false)
	if err != nil {
		t.Fatal(err)
	}
	fails := map[string][2]string{
		"unknown id":      {"whk_000000000000000000000000", c.Secret},
		"malformed id":    {"whk_x", c.Secret},
		"wrong secret":    {c.Hook.ID, other.Secret},
		"malformed":       {c.Hook.ID, "whsec_short"},
		"other's secret":  {other.Hook.ID, c.Secret},
		"empty secret":    {c.Hook.ID, ""},
		"uppercase id":    {strings.ToUpper(c.Hook.ID), c.Secret},
		"no secret shape": {c.Hook.ID, strings.Repeat("a", 100)},
	}
	for name, f := range fails {
		if _, err := fx.tenants.Receive(fx.ctx, f[0], f[1], "", time.Now()); err != ErrHookNotFound {
			t.Errorf("%s: %v, want exactly ErrHookNotFound", name, err)
		}
	}
	// Regenerate: the old secret fails at once.
	r, err := fx.tenants.RegenerateHook(fx.ctx, as(own), "acme", c.Hook.ID)
	if err != nil || r.Secret == c.Secret || r.Hook.ID != c.Hook.ID {
		t.Fatalf("regenerate: %+v %v", r, err)
	}
	if _, err := fx.tenants.Receive(fx.ctx, c.Hook.ID, c.Secret, "", time.Now()); err != ErrHookNotFound {
		t.Fatalf("old secret after regenerate: %v", err)
	}
	if _, err := fx.tenants.Receive(fx.ctx, c.Hook.ID, r.Secret, "Entry.unpublish", time.Now()); err != nil {
		t.Fatalf("new secret: %v", err)
	}
	evs, err := fx.tenants.HookEvents(fx.ctx, as(ed), "acme", c.Hook.ID)
	if err != nil || len(evs) != 2 || evs[0].EventType != "Entry.unpublish" || evs[1].EventType != "Entry.publish" ||
		evs[0].PreviousAPICacheVersion != 2 || evs[0].NextAPICacheVersion != 3 || evs[0].Status != "synced" || evs[0].RefreshType != "api+assets" {
		t.Fatalf("events: %+v %v", evs, err)
	}
	// Delete: the URL dies, the events stay.
	if err := fx.tenants.DeleteHook(fx.ctx, as(own), "acme", c.Hook.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.tenants.Receive(fx.ctx, c.Hook.ID, r.Secret, "", time.Now()); err != ErrHookNotFound {
		t.Fatalf("deleted: %v", err)
	}
	if err := fx.tenants.DeleteHook(fx.ctx, as(own), "acme", c.Hook.ID); !errors.Is(err, ErrHookNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if evs, err := fx.tenants.HookEvents(fx.ctx, as(ed), "acme", c.Hook.ID); err != nil || len(evs) != 2 {
		t.Fatalf("events after delete: %d %v", len(evs), err)
	}
	if _, err := fx.tenants.HookEvents(fx.ctx, as(ed), "acme", "whk_000000000000000000000000"); !errors.Is(err, ErrHookNotFound) {
		t.Fatalf("events of unknown webhook: %v", err)
	}
	fx.RequireDeterministic(t)
}

func TestHookNoopAndBounds(t *testing.T) {
	fx := newFixture(t, private)
	own := fx.account(t, "own@example.com")
	fx.create(t, own, "acme")
	c, err := fx.tenants.CreateHook(fx.ctx, as(own), "acme", "storyblok", false, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range MaxHookEvents + 3 {
		f, err := fx.tenants.Receive(fx.ctx, c.Hook.ID, c.Secret, "published", time.Now())
		if err != nil || f.Refreshed {
			t.Fatalf("noop %d: %+v %v", i, f, err)
		}
	}
	evs, err := fx.tenants.HookEvents(fx.ctx, as(own), "acme", c.Hook.ID)
	if err != nil || len(evs) != MaxHookEvents || evs[0].Status != "noop" {
		t.Fatalf("events: %d %v", len(evs), err)
	}
	tn, _, _ := fx.tenants.Get(fx.ctx, as(own), "acme")
	if tn.Versions != (Versions{1, 1, 1}) {
		t.Fatalf("a no-op webhook bumped versions: %+v", tn.Versions)
	}
}

func TestEventType(t *testing.T) {
	tests := []struct {
		provider, topic, body, want string
	}{
		{"contentful", "ContentManagement.Entry.publish", `{"type":"ignored"}`, "ContentManagement.Entry.publish"},
		{"prismic", "x", `{"type":"api-update"}`, "api-update"},
		{"storyblok", "", `{"action":"published","event":"ignored"}`, "published"},
		{"storyblok", "", `{"event":"story.published"}`, "story.published"},
		{"generic", "x", `{"type":"x"}`, ""},
		{"prismic", "", `not json`, ""},
		{"prismic", "", `{"type":42}`, ""},
		{"prismic", "", `{"type":"a\u0000b\nc"}`, "abc"},
		{"contentful", strings.Repeat("é", 100), "", strings.Repeat("é", 64)},
	}
	for _, tt := range tests {
		if got := EventType(tt.provider, tt.topic, []byte(tt.body)); got != tt.want {
			t.Errorf("%s %q %q: %q, want %q", tt.provider, tt.topic, tt.body, got, tt.want)
		}
	}
}

func FuzzEventType(f *testing.F) {
	f.Add("prismic", "", []byte(`{"type":"api-update"}`))
	f.Add("storyblok", "", []byte(`{"action":"published"}`))
	f.Add("contentful", "Entry.publish", []byte(``))
	f.Add("storyblok", "", []byte(`{"event":`))
	f.Fuzz(func(t *testing.T, provider, topic string, body []byte) {
		got := EventType(provider, topic, body)
		if len(got) > MaxEventType {
			t.Fatalf("%d bytes", len(got))
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || r == 0xfffd {
				t.Fatalf("unprintable %q", got)
			}
		}
	})
}

func TestEdgeConfig(t *testing.T) {
	fx := newFixture(t, private)
	own := fx.account(t, "own@example.com")
	fx.create(t, own, "acme")
	snap, ok, err := fx.tenants.EdgeConfig(fx.ctx, as(own), "acme")
	if err != nil || !ok || snap.PublicOrigin != "https://acme.tenants.test" || snap.Versions != (Versions{1, 1, 1}) {
		t.Fatalf("edge config: %+v %v %v", snap, ok, err)
	}
	if _, err := fx.tenants.Refresh(fx.ctx, as(own), "acme", RefreshAll); err != nil {
		t.Fatal(err)
	}
	if snap, ok, err := fx.tenants.EdgeConfig(fx.ctx, as(own), "acme"); err != nil || !ok || snap.Versions != (Versions{2, 2, 2}) {
		t.Fatalf("edge config after refresh: %+v %v %v", snap, ok, err)
	}
	if fx.tenants.ProxyBase("acme") != "https://acme.tenants.test" {
		t.Fatal(fx.tenants.ProxyBase("acme"))
	}
}
