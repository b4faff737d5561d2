package httpapi_test

import (
	"encoding/json"
	"reflect"
	"testing"
)

// asJSON round-trips v through JSON, so that expectations built in Go
// compare equal to decoded bodies.
func asJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPatchChangesOnlyWhatItNames PATCHes every field of every PATCH-able
// object alone and checks that every other field survives: the issue's
// {"render":{"timeoutMs":5000}} must not reset blockResources and
// blockTrackers.
func TestPatchChangesOnlyWhatItNames(t *testing.T) {
	fx := newFixture(t, 1)
	acct, key := fx.account("patch@example.com", "agency")

	t.Run("domain", func(t *testing.T) {
		const path = "/api/domains/patch.example.com"
		r := fx.do(0, "POST", "/api/domains", key, map[string]any{
			"domain": "patch.example.com", "origin": "http://127.0.0.1:9", "cacheTtl": 3600, "monthlyRenderLimit": 42,
			"render": map[string]any{"timeoutMs": 5000, "blockResources": []string{"stylesheet"}, "blockTrackers": false},
		})
		if r.Status != 201 {
			t.Fatalf("create: %s", r)
		}
		defaults := map[string]any{"timeoutMs": 0, "blockResources": []string{"font", "image", "media"}, "blockTrackers": true}
		tests := []struct {
			name   string
			body   string
			change func(d map[string]any)
		}{
			{"origin", `{"origin":"http://127.0.0.1:10/"}`, func(d map[string]any) { d["origin"] = "http://127.0.0.1:10" }},
			{"cacheTtl", `{"cacheTtl":120}`, func(d map[string]any) { d["cacheTtl"] = 120 }},
			{"render.timeoutMs", `{"render":{"timeoutMs":7000}}`, func(d map[string]any) { d["render"].(map[string]any)["timeoutMs"] = 7000 }},
			{"render.blockResources", `{"render":{"blockResources":["image","font"]}}`, func(d map[string]any) {
				d["render"].(map[string]any)["blockResources"] = []string{"font", "image"}
			}},
			{"render.blockTrackers", `{"render":{"blockTrackers":true}}`, func(d map[string]any) { d["render"].(map[string]any)["blockTrackers"] = true }},
			{"monthlyRenderLimit", `{"monthlyRenderLimit":7}`, func(d map[string]any) { d["monthlyRenderLimit"] = 7 }},
			{"monthlyRenderLimit null: the plan's", `{"monthlyRenderLimit":null}`, func(d map[string]any) { d["monthlyRenderLimit"] = nil }},
			{"cacheTtl null: the default", `{"cacheTtl":null}`, func(d map[string]any) { d["cacheTtl"] = 86400 }},
			{"render null: the defaults", `{"render":null}`, func(d map[string]any) { d["render"] = defaults }},
			{"nothing", `{}`, func(d map[string]any) {}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := fx.do(0, "GET", path, key, nil)
				if before.Status != 200 {
					t.Fatal(before)
				}
				want := before.JSON()
				tt.change(want)
				want = asJSON(t, want)
				patched := fx.do(0, "PATCH", path, key, json.RawMessage(tt.body))
				if patched.Status != 200 {
					t.Fatalf("PATCH %s: %s", tt.body, patched)
				}
				after := fx.do(0, "GET", path, key, nil).JSON()
				if !reflect.DeepEqual(patched.JSON(), after) {
					t.Fatalf("PATCH answered %s, GET then reads %v", patched, after)
				}
				if tt.body == `{}` {
					if !reflect.DeepEqual(after, before.JSON()) {
						t.Fatalf("an empty PATCH changed the domain: %v", after)
					}
					return
				}
				if after["updatedAt"] == before.JSON()["updatedAt"] {
					t.Errorf("updatedAt did not move")
				}
				delete(after, "updatedAt")
				delete(want, "updatedAt")
				if !reflect.DeepEqual(after, want) {
					t.Fatalf("PATCH %s:\n got %v\nwant %v", tt.body, after, want)
				}
			})
		}
		t.Run("refused", func(t *testing.T) {
			before := fx.do(0, "GET", path, key, nil).JSON()
			for _, body := range []string{`{"origin":null}`, `{"origin":""}`, `{"cacheTtl":59}`, `{"render":{"timeout":1}}`,
				`{"render":{"timeoutMs":"5s"}}`, `{"render":{"blockResources":["everything"]}}`, `{"monthlyRenderLimit":-1}`, `{"domain":"x.example.com"}`} {
				if r := fx.do(0, "PATCH", path, key, json.RawMessage(body)); r.Status != 400 || r.JSON()["error"] == nil {
					t.Errorf("PATCH %s: %s, want 400", body, r)
				}
			}
			if after := fx.do(0, "GET", path, key, nil).JSON(); !reflect.DeepEqual(after, before) {
				t.Fatalf("refused PATCHes changed the domain: %v, was %v", after, before)
			}
		})
	})

	t.Run("account", func(t *testing.T) {
		path := "/admin/accounts/" + acct
		admin := func(method string, body any) (int, map[string]any) {
			t.Helper()
			r, err := fx.c.Do(fx.ctx, 0, method, path, body)
			if err != nil {
				t.Fatal(err)
			}
			return r.Status, r.JSON()
		}
		_, before := admin("GET", nil)
		status, got := admin("PATCH", json.RawMessage(`{"plan":"pro"}`))
		want := asJSON(t, before)
		want["plan"] = "pro"
		if status != 200 || !reflect.DeepEqual(got, want) {
			t.Fatalf("PATCH plan: %d %v, want %v", status, got, want)
		}
		if _, stored := admin("GET", nil); !reflect.DeepEqual(stored, want) {
			t.Fatalf("stored %v", stored)
		}
		if status, got := admin("PATCH", json.RawMessage(`{}`)); status != 200 || !reflect.DeepEqual(got, want) {
			t.Fatalf("empty PATCH: %d %v", status, got)
		}
		for _, body := range []string{`{"plan":null}`, `{"plan":""}`, `{"plan":"platinum"}`, `{"email":"new@example.com"}`} {
			if status, got := admin("PATCH", json.RawMessage(body)); status != 400 || got["error"] == nil {
				t.Errorf("PATCH %s: %d %v, want 400", body, status, got)
			}
		}
		if _, stored := admin("GET", nil); !reflect.DeepEqual(stored, want) {
			t.Fatalf("refused PATCHes changed the account: %v", stored)
		}
	})
}
