package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// TestBadInputGets4xxJSON sends malformed requests to every endpoint that
// takes input, through a follower, and expects a 4xx with a JSON "error"
// and no state change.
func TestBadInputGets4xxJSON(t *testing.T) {
	c := testcluster.New(t, 3, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	f := (c.Leader() + 1) % 3
	base := c.URL(f)
	admin := "Bearer " + c.AdminToken()

	resp, err := c.Do(ctx, f, http.MethodPost, "/admin/accounts", map[string]string{"email": "exists@example.com", "plan": "free"})
	if err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("setup: %v %v", resp, err)
	}
	id := resp.JSON()["id"].(string)

	huge := `{"email":"` + strings.Repeat("a", 2<<20) + `@example.com","plan":"free"}`
	tests := []struct {
		name, method, path, auth string
		body                     any
		want                     int
	}{
		{"no token", "GET", "/admin/accounts", "", nil, 401},
		{"wrong token", "GET", "/admin/accounts", "Bearer nope", nil, 401},
		{"basic auth", "GET", "/admin/cluster", "Basic Zm9vOmJhcg==", nil, 401},
		{"bad json", "POST", "/admin/accounts", admin, `{"email":`, 400},
		{"not json", "POST", "/admin/accounts", admin, `hello`, 400},
		{"empty body", "POST", "/admin/accounts", admin, ``, 400},
		{"array body", "POST", "/admin/accounts", admin, `[1,2]`, 400},
		{"two objects", "POST", "/admin/accounts", admin, `{"email":"a@b.co","plan":"free"}{}`, 400},
		{"unknown field", "POST", "/admin/accounts", admin, `{"email":"x@example.com","plan":"free","admin":true}`, 400},
		{"wrong type", "POST", "/admin/accounts", admin, `{"email":42,"plan":"free"}`, 400},
		{"null fields", "POST", "/admin/accounts", admin, `{"email":null,"plan":null}`, 400},
		{"huge body", "POST", "/admin/accounts", admin, huge, 413},
		{"missing email", "POST", "/admin/accounts", admin, `{"plan":"free"}`, 400},
		{"bad email", "POST", "/admin/accounts", admin, `{"email":"not an email","plan":"free"}`, 400},
		{"unknown plan", "POST", "/admin/accounts", admin, `{"email":"p@example.com","plan":"platinum"}`, 400},
		{"duplicate email", "POST", "/admin/accounts", admin, `{"email":"exists@example.com","plan":"free"}`, 409},
		{"unknown account", "GET", "/admin/accounts/acct_nope", admin, nil, 404},
		{"delete unknown", "DELETE", "/admin/accounts/acct_nope", admin, nil, 404},
		{"patch unknown", "PATCH", "/admin/accounts/acct_nope", admin, `{"plan":"pro"}`, 404},
		{"patch bad plan", "PATCH", "/admin/accounts/" + id, admin, `{"plan":"gold"}`, 400},
		{"patch bad json", "PATCH", "/admin/accounts/" + id, admin, `{"plan":`, 400},
		{"patch unknown field", "PATCH", "/admin/accounts/" + id, admin, `{"plan":"pro","x":1}`, 400},
		{"unknown route", "GET", "/nope", "", nil, 404},
		{"wrong method", "PUT", "/admin/accounts", admin, `{}`, 405},
		{"path traversal id", "GET", "/admin/accounts/..%2f..%2fetc", admin, nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := testcluster.Do(ctx, base, tt.method, tt.path, tt.auth, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.want {
				t.Fatalf("status = %s, want %d", resp, tt.want)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("Content-Type = %q, want JSON", resp.Header.Get("Content-Type"))
			}
			if msg, _ := resp.JSON()["error"].(string); msg == "" {
				t.Fatalf("body %s has no \"error\" string", resp.Body)
			}
		})
	}

	// Nothing was lost or changed: exactly the one account exists, on its
	// original plan.
	resp, err = c.Do(ctx, 0, http.MethodGet, "/admin/accounts", nil)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Accounts []struct{ ID, Plan string } `json:"accounts"`
	}
	resp.Decode(&list)
	if len(list.Accounts) != 1 || list.Accounts[0].ID != id || list.Accounts[0].Plan != "free" {
		t.Fatalf("state changed by bad requests: %s", resp)
	}
}

func TestAccountLifecycle(t *testing.T) {
	c := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := c.Do(ctx, 0, "POST", "/admin/accounts", map[string]string{"email": "Life@Example.com", "plan": "agency"})
	if err != nil || resp.Status != 201 {
		t.Fatalf("create: %v %v", resp, err)
	}
	a := resp.JSON()
	for _, k := range []string{"id", "email", "plan", "createdAt"} {
		if _, ok := a[k]; !ok {
			t.Fatalf("create body %s lacks %q", resp.Body, k)
		}
	}
	if a["email"] != "life@example.com" {
		t.Fatalf("email not normalised: %v", a["email"])
	}
	id := a["id"].(string)
	resp, _ = c.Do(ctx, 0, "PATCH", "/admin/accounts/"+id, map[string]string{"plan": "enterprise"})
	if resp.Status != 200 || resp.JSON()["plan"] != "enterprise" {
		t.Fatalf("patch: %s", resp)
	}
	// A domain of the account, to show that deleting it cascades.
	site := func(accountID string) *testcluster.Response {
		t.Helper()
		resp, err := c.Do(ctx, 0, "POST", "/admin/accounts/"+accountID+"/api-keys", map[string]any{"name": "k", "roles": []string{}})
		if err != nil || resp.Status != 201 {
			t.Fatalf("key: %v %v", resp, err)
		}
		resp, err = testcluster.Do(ctx, c.URL(0), "POST", "/api/domains", "Bearer "+resp.JSON()["key"].(string), map[string]string{"domain": "life.test", "origin": "http://127.0.0.1:9"})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := site(id); resp.Status != 201 {
		t.Fatalf("domain: %s", resp)
	}
	resp, _ = c.Do(ctx, 0, "DELETE", "/admin/accounts/"+id, nil)
	if resp.Status != http.StatusNoContent {
		t.Fatalf("delete: %s", resp)
	}
	resp, _ = c.Do(ctx, 0, "GET", "/admin/accounts/"+id, nil)
	if resp.Status != 404 {
		t.Fatalf("get after delete: %s", resp)
	}
	// The email is free again.
	resp, _ = c.Do(ctx, 0, "POST", "/admin/accounts", map[string]string{"email": "life@example.com", "plan": "free"})
	if resp.Status != 201 {
		t.Fatalf("re-create: %s", resp)
	}
	// And so is the domain: it went with the deleted account.
	if resp := site(resp.JSON()["id"].(string)); resp.Status != 201 {
		t.Fatalf("the deleted account's domain was not freed: %s", resp)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	c := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := testcluster.Do(ctx, c.URL(0), "GET", p, "", nil)
		if err != nil || resp.Status != 200 {
			t.Fatalf("%s: %v %v", p, resp, err)
		}
	}
	resp, err := testcluster.Do(ctx, c.URL(0), "GET", "/metrics", "", nil)
	if err != nil || resp.Status != 200 {
		t.Fatalf("/metrics: %v %v", resp, err)
	}
	for _, m := range []string{"rendercache_raft_leader 1", "rendercache_raft_applied_index", `rendercache_cluster_members{state="alive"} 1`, `rendercache_http_requests_total{code="200",method="GET",route="/healthz"} 1`} {
		if !strings.Contains(string(resp.Body), m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
}
