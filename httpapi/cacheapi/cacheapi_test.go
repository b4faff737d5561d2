package cacheapi

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/ratelimit"
	"github.com/rendercache/rendercache/webhook"
)

// fakeKeys knows "free" (no API access), "agency" and "script" (agency,
// with the script role).
type fakeKeys struct{}

func (fakeKeys) Authenticate(_ context.Context, raw string) (apikey.Principal, error) {
	p := apikey.Principal{Account: account.Account{ID: "a1", Plan: "agency"}, KeyID: raw}
	switch raw {
	case "free":
		p.Account.Plan = "free"
	case "agency":
	case "script":
		p.Roles = []string{"script"}
	default:
		return apikey.Principal{}, apikey.ErrInvalid
	}
	return p, nil
}

// fakeWebhooks knows the tokens "free" and "agency", by their account's
// plan.
type fakeWebhooks struct{}

func (fakeWebhooks) Authenticate(_ context.Context, raw string) (webhook.Principal, error) {
	if raw != "free" && raw != "agency" {
		return webhook.Principal{}, webhook.ErrInvalid
	}
	return webhook.Principal{Account: account.Account{ID: "a1", Plan: raw}, Token: webhook.Token{Domain: "www.shop.test", AccountID: "a1"}}, nil
}

// fakeCache invalidates any key; its other methods are not called here.
type fakeCache struct{ CacheControl }

func (fakeCache) Invalidate(context.Context, string, string) error { return nil }

// oneLimiter allows one request per bucket.
type oneLimiter struct{ used map[string]bool }

func (l *oneLimiter) Allow(_ context.Context, key string, _ ratelimit.Rule) ratelimit.Decision {
	if l.used[key] {
		return ratelimit.Decision{RetryAfter: time.Minute}
	}
	l.used[key] = true
	return ratelimit.Decision{Allowed: true}
}

func (l *oneLimiter) Refund(context.Context, string, ratelimit.Rule, ratelimit.Decision) {}

// The cache APIs check plan, role, token and limit before any work, with
// the documented statuses.
func TestCacheAPIChecks(t *testing.T) {
	rt := httpapi.NewRouter(httpapi.Config{})
	Register(rt, Deps{
		Keys:        fakeKeys{},
		Plans:       plan.Defaults(),
		Cache:       fakeCache{},
		Limiter:     &oneLimiter{used: map[string]bool{}},
		WebhookAuth: fakeWebhooks{},
	})
	cases := []struct {
		name, method, path, header, value, body string
		status                                  int
		want                                    string
	}{
		{"API without key", "GET", "/api/cache/stats", "", "", "", 401, "API key required"},
		{"API on a plan without API access", "GET", "/api/cache/stats", "X-Api-Key", "free", "", 403, httpapi.ErrPlanNoAPI.Message},
		{"list limit out of range", "GET", "/api/cache/list/www.shop.test?limit=0", "X-Api-Key", "agency", "", 400, "limit must be between 1 and"},
		{"purge without domain", "POST", "/api/cache/purge", "X-Api-Key", "agency", `{}`, 400, `\"domain\" is required`},
		{"script without role", "POST", "/script/invalidate-cache", "X-Api-Key", "agency", `{"key":"k"}`, 403, ErrScriptRole.Message},
		{"script without key", "POST", "/script/invalidate-cache", "X-Api-Key", "script", `{}`, 400, `\"key\" is required`},
		{"script past its limit", "POST", "/script/invalidate-cache", "X-Api-Key", "script", `{"key":"k"}`, 429, "Rate limit exceeded"},
		{"webhook without token", "POST", "/api/webhook/refresh", "", "", `{"urls":["/"]}`, 401, ErrWebhookRequired.Message},
		{"webhook on a plan without tokens", "POST", "/api/webhook/refresh", "Authorization", "Bearer free", `{"urls":["/"]}`, 403, webhook.ErrPlan.Message},
		{"webhook without urls", "POST", "/api/webhook/refresh", "Authorization", "Bearer agency", `{"urls":[]}`, 400, `\"urls\" must list`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.header != "" {
				req.Header.Set(tc.header, tc.value)
			}
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, req)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("%d %s; want %d with %s", w.Code, w.Body, tc.status, tc.want)
			}
		})
	}
}
