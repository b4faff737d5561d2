package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/plan"
)

// fakeKeys accepts the key "good" for an account on plan, and "gone" for
// an account whose plan the catalog lacks.
type fakeKeys struct{ plan string }

func (k fakeKeys) Authenticate(_ context.Context, raw string) (apikey.Principal, error) {
	switch raw {
	case "good":
		return apikey.Principal{Account: account.Account{ID: "a1", Plan: k.plan}, KeyID: "k1"}, nil
	case "gone":
		return apikey.Principal{Account: account.Account{ID: "a2", Plan: "retired"}, KeyID: "k2"}, nil
	}
	return apikey.Principal{}, apikey.ErrInvalid
}

var _ httpapi.Keys = fakeKeys{}

// fakeAdmin accepts the token "root".
type fakeAdmin struct{}

func (fakeAdmin) Check(token string) bool { return token == "root" }

// The kit's account and operator checks answer with the documented
// statuses and errors, through the Router, before the handler runs.
func TestKitAuth(t *testing.T) {
	plans := plan.Catalog{"free": {Name: "free"}, "agency": {Name: "agency", APIAccess: true}}
	ok := func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
		return nil
	}
	okAccount := func(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
		if c.Account.ID == "" || c.Plan.Name == "" {
			t.Errorf("caller without account or plan: %+v", c)
		}
		return ok(w, r, ps)
	}
	rt := httpapi.NewRouter(httpapi.Config{})
	rt.Handle(http.MethodGet, "/admin", httpapi.Admin(fakeAdmin{}, ok))
	rt.Handle(http.MethodGet, "/admin-nil", httpapi.Admin(nil, ok))
	rt.Handle(http.MethodGet, "/free/any", httpapi.Account(httpapi.KeyAuth{Keys: fakeKeys{"free"}, Plans: plans}, httpapi.AnyPlan, okAccount))
	rt.Handle(http.MethodGet, "/free/api", httpapi.Account(httpapi.KeyAuth{Keys: fakeKeys{"free"}, Plans: plans}, httpapi.APIPlans, okAccount))
	rt.Handle(http.MethodGet, "/agency/api", httpapi.Account(httpapi.KeyAuth{Keys: fakeKeys{"agency"}, Plans: plans}, httpapi.APIPlans, okAccount))

	cases := []struct {
		name, path, header, value string
		status                    int
		err                       string
	}{
		{"admin without token", "/admin", "", "", 401, httpapi.ErrAdminTokenRequired.Message},
		{"admin wrong token", "/admin", "Authorization", "Bearer nope", 401, httpapi.ErrAdminTokenInvalid.Message},
		{"admin without auth", "/admin-nil", "Authorization", "Bearer root", 401, httpapi.ErrAdminTokenInvalid.Message},
		{"admin", "/admin", "Authorization", "Bearer root", 200, ""},
		{"account without key", "/free/any", "", "", 401, apikey.ErrRequired.Message},
		{"account bad key", "/free/any", "X-Api-Key", "bad", 401, apikey.ErrInvalid.Message},
		{"account plan not configured", "/free/any", "X-Api-Key", "gone", 403, httpapi.ErrPlanMissing.Message},
		{"any plan", "/free/any", "X-API-KEY", "good", 200, ""},
		{"any plan by X-ResCDN-Key", "/free/any", "X-ResCDN-Key", "good", 200, ""},
		{"any plan by bearer", "/free/any", "Authorization", "Bearer good", 200, ""},
		{"API route without API access", "/free/api", "X-Api-Key", "good", 403, httpapi.ErrPlanNoAPI.Message},
		{"API route with API access", "/agency/api", "X-Api-Key", "good", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.header != "" {
				req.Header.Set(tc.header, tc.value)
			}
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if body["error"] != tc.err {
				t.Fatalf("error %q, want %q", body["error"], tc.err)
			}
		})
	}
}
