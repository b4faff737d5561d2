package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/cachectl"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/jobs"
	"github.com/rendercache/rendercache/ratelimit"
	"github.com/rendercache/rendercache/webhook"
)

// CacheControl manages the render cache cluster-wide; *cachectl.Service
// satisfies it.
type CacheControl interface {
	List(ctx context.Context, accountID, host, cursor string, limit int) (cachectl.Listing, error)
	Purge(ctx context.Context, accountID, host string, paths []string) (int, error)
	PurgeAll(ctx context.Context, accountID string) (int, error)
	Refresh(ctx context.Context, accountID, host string, paths []string, kind string) (domain.Domain, []jobs.Job, error)
	RefreshAll(ctx context.Context, accountID string, paths []string) (int, []jobs.Job, error)
	Stats(ctx context.Context, accountID string) (int, int, error)
	Job(ctx context.Context, accountID, id string) (jobs.Job, error)
	Warm(ctx context.Context, accountID, host, sitemapURL string) (domain.Domain, []jobs.Job, error)
	Invalidate(ctx context.Context, accountID, key string) error
	DomainUsage(ctx context.Context, accountID, host string) (cachectl.Usage, error)
}

var _ CacheControl = (*cachectl.Service)(nil)

// Limiter decides rate limits cluster-wide; *ratelimit.Limiter satisfies
// it.
type Limiter interface {
	Allow(ctx context.Context, key string, r ratelimit.Rule) ratelimit.Decision
	Refund(ctx context.Context, key string, r ratelimit.Rule, d ratelimit.Decision)
}

// WebhookAuth resolves a webhook token to its domain;
// *webhook.Service satisfies it.
type WebhookAuth interface {
	Authenticate(ctx context.Context, raw string) (webhook.Principal, error)
}

// The documented limits.
var (
	// ScriptRule: 60 Script API requests per minute per API key.
	ScriptRule = ratelimit.Rule{Limit: 60, Window: time.Minute}
	// WebhookRule: 10 webhook refreshes per hour per domain.
	WebhookRule = ratelimit.Rule{Limit: 10, Window: time.Hour}
)

// Errors of the cache management APIs.
var (
	ErrTooManyRequests = errkind.New(errkind.TooMany, "Rate limit exceeded")
	ErrScriptRole      = errkind.New(errkind.Forbidden, "This API key does not have the SCRIPT role")
	ErrKeyRequired     = errkind.New(errkind.Invalid, `field "key" is required`)
	ErrDomainRequired  = errkind.New(errkind.Invalid, `field "domain" is required`)
	ErrWebhookRequired = errkind.New(errkind.Unauthorized, "Webhook token required")
	ErrURLsRequired    = errkind.New(errkind.Invalid, `field "urls" must list at least one URL or path`)
)

func (s *Server) registerCacheRoutes() {
	s.account(http.MethodGet, "/api/cache/list/:domain", true, s.cacheList)
	s.account(http.MethodPost, "/api/cache/purge", true, s.cachePurge)
	s.account(http.MethodPost, "/api/cache/refresh", true, s.cacheRefresh)
	s.account(http.MethodPost, "/api/cache/purge-all", true, s.cachePurgeAll)
	s.account(http.MethodPost, "/api/cache/refresh-all", true, s.cacheRefreshAll)
	s.account(http.MethodGet, "/api/cache/stats", true, s.cacheStats)
	s.account(http.MethodGet, "/api/cache/jobs/:jobId", true, s.cacheJob)
	s.account(http.MethodPost, "/api/cache/warm", true, s.cacheWarm)
	s.account(http.MethodGet, "/api/domains/:domain/usage", false, s.domainUsage)
	s.account(http.MethodPost, "/script/invalidate-cache", true, s.scriptInvalidate)
	s.route(http.MethodPost, "/api/webhook/refresh", s.webhookRefresh)
}

func (s *Server) cacheList(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	q := r.URL.Query()
	limit := cachectl.DefaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > cachectl.MaxListLimit {
			return errkind.New(errkind.Invalid, "limit must be between 1 and "+strconv.Itoa(cachectl.MaxListLimit))
		}
		limit = n
	}
	l, err := s.deps.Cache.List(r.Context(), c.Account.ID, ps.ByName("domain"), q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	body := map[string]any{"domain": l.Domain, "cachedPages": len(l.Pages), "pages": l.Pages}
	if l.Next != "" {
		body["nextCursor"] = l.Next
		next := url.Values{"cursor": {l.Next}, "limit": {strconv.Itoa(limit)}}
		w.Header().Set("Link", "</api/cache/list/"+l.Domain+"?"+next.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

type purgeBody struct {
	Domain string  `json:"domain"`
	Path   *string `json:"path"`
}

func (s *Server) cachePurge(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	var req purgeBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.Domain == "" {
		return ErrDomainRequired
	}
	var paths []string
	if req.Path != nil {
		paths = []string{*req.Path} // validated by Purge, page.NormalizeRef
	}
	n, err := s.deps.Cache.Purge(r.Context(), c.Account.ID, req.Domain, paths)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Cache purged", "keysDeleted": n})
	return nil
}

type refreshBody struct {
	Domain string   `json:"domain"`
	Paths  []string `json:"paths"`
}

type jobRef struct {
	Path  string `json:"path"`
	JobID string `json:"jobId"`
}

func jobRefs(js []jobs.Job) []jobRef {
	out := make([]jobRef, 0, len(js))
	for _, j := range js {
		out = append(out, jobRef{Path: j.Path, JobID: j.ID})
	}
	return out
}

func (s *Server) cacheRefresh(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	var req refreshBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.Domain == "" {
		return ErrDomainRequired
	}
	if req.Paths == nil {
		req.Paths = cachectl.DefaultRefreshPaths
	}
	d, js, err := s.deps.Cache.Refresh(r.Context(), c.Account.ID, req.Domain, req.Paths, "refresh")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Cache refresh queued", "domain": d.Domain, "jobs": jobRefs(js)})
	return nil
}

func (s *Server) cachePurgeAll(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	if err := decodeOptionalJSON(w, r, s.cfg.MaxBodyBytes, &struct{}{}); err != nil {
		return err
	}
	n, err := s.deps.Cache.PurgeAll(r.Context(), c.Account.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "All your domain caches purged", "keysDeleted": n})
	return nil
}

func (s *Server) cacheRefreshAll(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	var req struct {
		Paths []string `json:"paths"`
	}
	if err := decodeOptionalJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	n, js, err := s.deps.Cache.RefreshAll(r.Context(), c.Account.ID, req.Paths)
	if err != nil {
		return err
	}
	type ref struct {
		Domain string `json:"domain"`
		Path   string `json:"path"`
		JobID  string `json:"jobId"`
	}
	refs := make([]ref, 0, len(js))
	for _, j := range js {
		refs = append(refs, ref{Domain: j.Domain, Path: j.Path, JobID: j.ID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "All caches refresh queued", "totalDomains": n, "totalJobs": len(js), "jobs": refs})
	return nil
}

func (s *Server) cacheStats(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	keys, domains, err := s.deps.Cache.Stats(r.Context(), c.Account.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"totalKeys": keys, "domainCount": domains})
	return nil
}

func (s *Server) cacheJob(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	j, err := s.deps.Cache.Job(r.Context(), c.Account.ID, ps.ByName("jobId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) cacheWarm(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	var req struct {
		Domain  string `json:"domain"`
		Sitemap string `json:"sitemap"`
	}
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.Domain == "" {
		return ErrDomainRequired
	}
	d, js, err := s.deps.Cache.Warm(r.Context(), c.Account.ID, req.Domain, req.Sitemap)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Cache warm queued", "domain": d.Domain, "totalJobs": len(js), "jobs": jobRefs(js)})
	return nil
}

func (s *Server) domainUsage(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	u, err := s.deps.Cache.DomainUsage(r.Context(), c.Account.ID, ps.ByName("domain"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// limited is Limited with the server's limiter.
func (s *Server) limited(ctx context.Context, key string, rule ratelimit.Rule, do func() error) error {
	return Limited(ctx, s.deps.Limiter, key, rule, do)
}

func (s *Server) scriptInvalidate(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	if !c.HasRole("script") {
		return ErrScriptRole
	}
	return s.limited(r.Context(), "script/"+c.KeyID, ScriptRule, func() error {
		var req struct {
			Key string `json:"key"`
		}
		if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			return err
		}
		if strings.TrimSpace(req.Key) == "" {
			return ErrKeyRequired
		}
		if err := s.deps.Cache.Invalidate(r.Context(), c.Account.ID, req.Key); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "success"})
		return nil
	})
}

func (s *Server) webhookRefresh(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	raw := bearer(r)
	if raw == "" {
		return ErrWebhookRequired
	}
	p, err := s.deps.WebhookAuth.Authenticate(r.Context(), raw)
	if err != nil {
		return err
	}
	// Tokens are checked against the plan on every use, not only at
	// creation, so that a downgrade switches them off.
	pl, err := s.planOf(p.Account)
	if err != nil {
		return err
	}
	if !pl.WebhookTokens {
		return webhook.ErrPlan
	}
	tok := p.Token
	return s.limited(r.Context(), "webhook/"+tok.Domain, WebhookRule, func() error {
		var req struct {
			URLs []string `json:"urls"`
		}
		if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			return err
		}
		if len(req.URLs) == 0 {
			return ErrURLsRequired
		}
		// Refresh validates each URL, a path or an absolute URL on the
		// token's domain, with page.NormalizeRef, and bounds their number.
		d, js, err := s.deps.Cache.Refresh(r.Context(), tok.AccountID, tok.Domain, req.URLs, "webhook")
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"message": "Cache refresh queued", "domain": d.Domain, "jobs": jobRefs(js)})
		return nil
	})
}
