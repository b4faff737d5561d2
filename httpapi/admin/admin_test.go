package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/httpapi"
)

// fakeCluster is ready when ready is set.
type fakeCluster struct{ ready bool }

func (c fakeCluster) Info(context.Context) (ClusterInfo, error) {
	return ClusterInfo{Leader: "n1", Nodes: []ClusterNode{{Name: "n1", State: "leader"}}}, nil
}

func (c fakeCluster) Ready() (bool, string) { return c.ready, "no leader" }

// fakeAccounts holds the one account "a1".
type fakeAccounts struct{}

func (fakeAccounts) Create(_ context.Context, email, plan string) (account.Account, error) {
	return account.Account{ID: "a2", Email: email, Plan: plan}, nil
}

func (fakeAccounts) Get(_ context.Context, id string) (account.Account, error) {
	if id != "a1" {
		return account.Account{}, account.ErrNotFound
	}
	return account.Account{ID: "a1", Plan: "free"}, nil
}

func (fakeAccounts) List(context.Context) ([]account.Account, error) { return nil, nil }
func (fakeAccounts) Delete(context.Context, string) error            { return nil }
func (fakeAccounts) SetPlan(_ context.Context, id, plan string) (account.Account, error) {
	return account.Account{ID: id, Plan: plan}, nil
}

// fakeKeys issues the key "rk_live_x".
type fakeKeys struct{}

func (fakeKeys) Create(_ context.Context, accountID string, in apikey.NewKeyInput) (apikey.Created, error) {
	return apikey.Created{Key: "rk_live_x"}, nil
}

type fakeAuth struct{}

func (fakeAuth) Check(token string) bool { return token == "root" }

var (
	_ Cluster           = fakeCluster{}
	_ Accounts          = fakeAccounts{}
	_ Keys              = fakeKeys{}
	_ httpapi.AdminAuth = fakeAuth{}
)

// The operator's routes answer with the documented statuses; every
// /admin route needs the admin token, the probes none.
func TestAdminRoutes(t *testing.T) {
	for _, ready := range []bool{true, false} {
		rt := httpapi.NewRouter(httpapi.Config{})
		Register(rt, Deps{Cluster: fakeCluster{ready}, Accounts: fakeAccounts{}, Auth: fakeAuth{}, Keys: fakeKeys{}})
		cases := []struct {
			name, method, path, token, body string
			status                          int
			want                            string
		}{
			{"healthz", "GET", "/healthz", "", "", 200, `"ok"`},
			{"readyz", "GET", "/readyz", "", "", map[bool]int{true: 200, false: 503}[ready], map[bool]string{true: `"ready"`, false: "not ready: no leader"}[ready]},
			{"cluster without token", "GET", "/admin/cluster", "", "", 401, "admin token required"},
			{"cluster", "GET", "/admin/cluster", "root", "", 200, `"leader":"n1"`},
			{"create without email", "POST", "/admin/accounts", "root", `{"plan":"free"}`, 400, `\"email\" is required`},
			{"create without plan", "POST", "/admin/accounts", "root", `{"email":"a@b.co"}`, 400, `\"plan\" is required`},
			{"create", "POST", "/admin/accounts", "root", `{"email":"a@b.co","plan":"free"}`, 201, `"id":"a2"`},
			{"patch nothing", "PATCH", "/admin/accounts/a1", "root", `{}`, 200, `"plan":"free"`},
			{"patch plan null", "PATCH", "/admin/accounts/a1", "root", `{"plan":null}`, 400, "always has a plan"},
			{"patch plan", "PATCH", "/admin/accounts/a1", "root", `{"plan":"agency"}`, 200, `"plan":"agency"`},
			{"delete", "DELETE", "/admin/accounts/a1", "root", "", 204, ""},
			{"key for unknown account", "POST", "/admin/accounts/zz/api-keys", "root", `{"name":"ci"}`, 404, "account not found"},
			{"key bad mode", "POST", "/admin/accounts/a1/api-keys", "root", `{"name":"ci","mode":"x"}`, 400, `\"mode\"`},
			{"key with roles", "POST", "/admin/accounts/a1/api-keys", "root", `{"name":"ci","roles":["script"]}`, 201, "rk_live_x"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				w := httptest.NewRecorder()
				rt.ServeHTTP(w, req)
				if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
					t.Fatalf("%d %s; want %d with %s", w.Code, w.Body, tc.status, tc.want)
				}
				if tc.status == http.StatusCreated && tc.path == "/admin/accounts" && w.Header().Get("Location") != "/admin/accounts/a2" {
					t.Fatalf("Location %q", w.Header().Get("Location"))
				}
			})
		}
	}
}
