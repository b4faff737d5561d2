package accountapi

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/plan"
)

// fakeKeys accepts "good" for a free account and issues "rk_test_x";
// its other methods are not called here.
type fakeKeys struct{ Keys }

func (fakeKeys) Authenticate(_ context.Context, raw string) (apikey.Principal, error) {
	if raw != "good" {
		return apikey.Principal{}, apikey.ErrInvalid
	}
	return apikey.Principal{Account: account.Account{ID: "a1", Plan: "free"}, KeyID: "k1"}, nil
}

func (fakeKeys) Create(_ context.Context, _ string, in apikey.NewKeyInput) (apikey.Created, error) {
	if !in.Test {
		return apikey.Created{Key: "rk_live_x"}, nil
	}
	return apikey.Created{Key: "rk_test_x"}, nil
}

// fakeDomains has no domains.
type fakeDomains struct{ Domains }

func (fakeDomains) Get(context.Context, string, string) (domain.Domain, error) {
	return domain.Domain{}, domain.ErrNotFound
}

// The account's routes work on every plan, refuse what only the operator
// may do, and look a domain up before its tokens.
func TestAccountRoutes(t *testing.T) {
	rt := httpapi.NewRouter(httpapi.Config{})
	Register(rt, Deps{Keys: fakeKeys{}, Domains: fakeDomains{}, Plans: plan.Defaults()})
	cases := []struct {
		name, method, path, key, body string
		status                        int
		want                          string
	}{
		{"without key", "GET", "/api/keys", "", "", 401, "API key required"},
		{"bad key", "GET", "/api/domains", "bad", "", 401, "Invalid API key"},
		{"key with roles", "POST", "/api/keys", "good", `{"name":"ci","roles":["script"]}`, 403, ErrRolesOperatorOnly.Message},
		{"test key", "POST", "/api/keys", "good", `{"name":"ci","mode":"test"}`, 201, "rk_test_x"},
		{"domain without name", "POST", "/api/domains", "good", `{}`, 400, `\"domain\" is required`},
		{"tokens of an unknown domain", "GET", "/api/domains/www.shop.test/webhook-tokens", "good", "", 404, "not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.key != "" {
				req.Header.Set("X-Api-Key", tc.key)
			}
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, req)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("%d %s; want %d with %s", w.Code, w.Body, tc.status, tc.want)
			}
		})
	}
}
