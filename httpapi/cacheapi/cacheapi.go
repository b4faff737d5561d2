package cacheapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/rendercache/rendercache/cachectl"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/jobs"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/ratelimit"
	"github.com/rendercache/rendercache/webhook"
)

// CacheControl manages the render cache cluster-wide; *cachectl.Service
// satisfies it.
type CacheControl interface {
	List(ctx context.Context, accountID, host, cursor string, limit int) (cachectl.Listing, error)
	Purge(ctx context.Context, accountID, host string, paths []string) (int, error)
	PurgeAll(ctx context.Context, accountID string) (int, error)
	Refresh(ctx context.Context, accountID, host string, paths []string, kind string, keep bool) (domain.Domain, []jobs.Job, error)
	RefreshAll(ctx context.Context, accountID string, paths []string, keep bool) (int, []jobs.Job, error)
	Stats(ctx context.Context, accountID string) (int, int, error)
	Job(ctx context.Context, accountID, id string) (jobs.Job, error)
	Warm(ctx context.Context, accountID, host, sitemapURL string) (domain.Domain, []jobs.Job, error)
	Invalidate(ctx context.Context, accountID, key string) error
	DomainUsage(ctx context.Context, accountID, host string) (cachectl.Usage, error)
}

// WebhookAuth resolves a webhook token to its domain;
// *webhook.Service satisfies it.
type WebhookAuth interface {
	Authenticate(ctx context.Context, raw string) (webhook.Principal, error)
}

var (
	_ CacheControl = (*cachectl.Service)(nil)
	_ WebhookAuth  = (*webhook.Service)(nil)
)

// The documented limits.
var (
	// ScriptRule: 60 Script API requests per minute per API key.
	ScriptRule = ratelimit.Rule{Limit: 60, Window: time.Minute}
	// WebhookRule: 10 webhook refreshes per hour per domain.
	WebhookRule = ratelimit.Rule{Limit: 10, Window: time.Hour}
)

var (
	// ErrScriptRole refuses the Script API to a key without the role.
	ErrScriptRole = errkind.New(errkind.Forbidden, "This API key does not have the SCRIPT role")
	// ErrKeyRequired refuses an invalidation without a cache key.
	ErrKeyRequired = errkind.New(errkind.Invalid, `field "key" is required`)
	// ErrDomainRequired refuses a cache request without a domain.
	ErrDomainRequired = errkind.New(errkind.Invalid, `field "domain" is required`)
	// ErrWebhookRequired is the 401 of a webhook call without a token.
	ErrWebhookRequired = errkind.New(errkind.Unauthorized, "Webhook token required")
	// ErrURLsRequired refuses a webhook refresh without URLs.
	ErrURLsRequired = errkind.New(errkind.Invalid, `field "urls" must list at least one URL or path`)
	// ErrBadLimit refuses a listing limit out of range.
	ErrBadLimit = errkind.New(errkind.Invalid, "limit must be between 1 and "+strconv.Itoa(cachectl.MaxListLimit))
)

// Deps are what the cache APIs use. All but Limiter are required.
type Deps struct {
	// Keys checks account API keys.
	Keys httpapi.Keys
	// Plans is the node's plan catalog.
	Plans plan.Catalog
	// Cache manages the render cache.
	Cache CacheControl
	// Limiter enforces ScriptRule and WebhookRule cluster-wide; nil: no
	// limit.
	Limiter httpapi.Limiter
	// WebhookAuth checks webhook tokens.
	WebhookAuth WebhookAuth
}

// api is the cache APIs. Safe for concurrent use.
type api struct{ deps Deps }

// Register adds the Cache API (/api/cache, a domain's usage), the Script
// API (/script) and the webhook refresh (/api/webhook/refresh) to r.
func Register(r httpapi.Registrar, deps Deps) {
	a := &api{deps: deps}
	auth := httpapi.KeyAuth{Keys: deps.Keys, Plans: deps.Plans}
	account := func(method, path string, access httpapi.Access, h httpapi.AccountHandler) {
		r.Handle(method, path, httpapi.Account(auth, access, h))
	}
	account(http.MethodGet, "/api/cache/list/:domain", httpapi.APIPlans, a.cacheList)
	account(http.MethodPost, "/api/cache/purge", httpapi.APIPlans, a.cachePurge)
	account(http.MethodPost, "/api/cache/refresh", httpapi.APIPlans, a.cacheRefresh)
	account(http.MethodPost, "/api/cache/purge-all", httpapi.APIPlans, a.cachePurgeAll)
	account(http.MethodPost, "/api/cache/refresh-all", httpapi.APIPlans, a.cacheRefreshAll)
	account(http.MethodGet, "/api/cache/stats", httpapi.APIPlans, a.cacheStats)
	account(http.MethodGet, "/api/cache/jobs/:jobId", httpapi.APIPlans, a.cacheJob)
	account(http.MethodPost, "/api/cache/warm", httpapi.APIPlans, a.cacheWarm)
	account(http.MethodGet, "/api/domains/:domain/usage", httpapi.AnyPlan, a.domainUsage)
	account(http.MethodPost, "/script/invalidate-cache", httpapi.APIPlans, a.scriptInvalidate)
	r.Handle(http.MethodPost, "/api/webhook/refresh", a.webhookRefresh)
}
