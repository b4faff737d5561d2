package cacheapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/cachectl"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/jobs"
)

func (a *api) cacheList(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
	q := r.URL.Query()
	limit := cachectl.DefaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > cachectl.MaxListLimit {
			return ErrBadLimit
		}
		limit = n
	}
	l, err := a.deps.Cache.List(r.Context(), c.Account.ID, ps.ByName("domain"), q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	body := map[string]any{"domain": l.Domain, "cachedPages": len(l.Pages), "pages": l.Pages}
	if l.Next != "" {
		body["nextCursor"] = l.Next
		next := url.Values{"cursor": {l.Next}, "limit": {strconv.Itoa(limit)}}
		w.Header().Set("Link", "</api/cache/list/"+l.Domain+"?"+next.Encode()+`>; rel="next"`)
	}
	httpapi.WriteJSON(w, http.StatusOK, body)
	return nil
}

type purgeBody struct {
	Domain string  `json:"domain"`
	Path   *string `json:"path"`
}

func (a *api) cachePurge(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	var req purgeBody
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Domain == "" {
		return ErrDomainRequired
	}
	var paths []string
	if req.Path != nil {
		paths = []string{*req.Path} // validated by Purge, page.NormalizeRef
	}
	n, err := a.deps.Cache.Purge(r.Context(), c.Account.ID, req.Domain, paths)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"message": "Cache purged", "keysDeleted": n})
	return nil
}

type refreshBody struct {
	Domain string   `json:"domain"`
	Paths  []string `json:"paths"`
	// KeepUntilReplaced opts into the quality guard: the cached pages are
	// not deleted first, and each is replaced only by a render that is not
	// clearly worse.
	KeepUntilReplaced bool `json:"keepUntilReplaced"`
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

func (a *api) cacheRefresh(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	var req refreshBody
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Domain == "" {
		return ErrDomainRequired
	}
	if req.Paths == nil {
		req.Paths = cachectl.DefaultRefreshPaths
	}
	d, js, err := a.deps.Cache.Refresh(r.Context(), c.Account.ID, req.Domain, req.Paths, "refresh", req.KeepUntilReplaced)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"message": "Cache refresh queued", "domain": d.Domain, "jobs": jobRefs(js)})
	return nil
}

func (a *api) cachePurgeAll(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	if err := httpapi.DecodeOptionalJSON(w, r, &struct{}{}); err != nil {
		return err
	}
	n, err := a.deps.Cache.PurgeAll(r.Context(), c.Account.ID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"message": "All your domain caches purged", "keysDeleted": n})
	return nil
}

func (a *api) cacheRefreshAll(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	var req struct {
		Paths             []string `json:"paths"`
		KeepUntilReplaced bool     `json:"keepUntilReplaced"`
	}
	if err := httpapi.DecodeOptionalJSON(w, r, &req); err != nil {
		return err
	}
	n, js, err := a.deps.Cache.RefreshAll(r.Context(), c.Account.ID, req.Paths, req.KeepUntilReplaced)
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
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"message": "All caches refresh queued", "totalDomains": n, "totalJobs": len(js), "jobs": refs})
	return nil
}

func (a *api) cacheStats(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	keys, domains, err := a.deps.Cache.Stats(r.Context(), c.Account.ID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"totalKeys": keys, "domainCount": domains})
	return nil
}

func (a *api) cacheJob(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
	j, err := a.deps.Cache.Job(r.Context(), c.Account.ID, ps.ByName("jobId"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, j)
	return nil
}

func (a *api) cacheWarm(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c httpapi.Caller) error {
	var req struct {
		Domain  string `json:"domain"`
		Sitemap string `json:"sitemap"`
	}
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Domain == "" {
		return ErrDomainRequired
	}
	d, js, err := a.deps.Cache.Warm(r.Context(), c.Account.ID, req.Domain, req.Sitemap)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"message": "Cache warm queued", "domain": d.Domain, "totalJobs": len(js), "jobs": jobRefs(js)})
	return nil
}

func (a *api) domainUsage(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c httpapi.Caller) error {
	u, err := a.deps.Cache.DomainUsage(r.Context(), c.Account.ID, ps.ByName("domain"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, u)
	return nil
}
