package cachectl

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/peer"
	"github.com/rendercache/rendercache/jobs"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/sitemap"
)

// Listing bounds.
const (
	DefaultListLimit = 1000
	MaxListLimit     = 10000
)

// PageRef is one cached page as the Cache API lists it.
type PageRef struct {
	Path     string `json:"path"`
	CacheKey string `json:"cacheKey"`
}

// CacheKey is the Cache API's name of a page: render:<domain>:<path>.
func CacheKey(domain, path string) string { return "render:" + domain + ":" + path }

// Listing is one page of a domain's cached pages.
type Listing struct {
	Domain string
	Pages  []PageRef
	// Next is the cursor of the following page, "" at the end.
	Next string
}

// List returns the account's domain's cached pages, gathered from every
// live member, in URL order after cursor, at most limit of them. Pages of
// an older cache version (purged) are never listed.
func (s *Service) List(ctx context.Context, accountID, host, cursor string, limit int) (Listing, error) {
	d, err := s.cfg.Domains.Get(ctx, accountID, host)
	if err != nil {
		return Listing{}, err
	}
	pages, more, err := s.gather(ctx, d, cursor, limit)
	if err != nil {
		return Listing{}, err
	}
	l := Listing{Domain: d.Domain, Pages: []PageRef{}}
	for _, u := range pages {
		l.Pages = append(l.Pages, PageRef{Path: u, CacheKey: CacheKey(d.Domain, u)})
	}
	if more && len(pages) > 0 {
		l.Next = pages[len(pages)-1]
	}
	return l, nil
}

// pagesRequest asks a member for its L2 listing of a domain.
type pagesRequest struct {
	Domain string `json:"domain"`
	After  string `json:"after"`
	Limit  int    `json:"limit"`
}

type pagesAnswer struct {
	Pages []page.StoredPage `json:"pages"`
	More  bool              `json:"more"`
}

// gather merges the members' L2 listings: URLs of the current version, in
// order, at most limit (0: all).
func (s *Service) gather(ctx context.Context, d domain.Domain, after string, limit int) ([]string, bool, error) {
	answers, errs := fanOut(ctx, s, func(ctx context.Context, m Member) (pagesAnswer, error) {
		if m.Name == s.cfg.Self {
			p, more, err := s.cfg.Pages.LocalPages(d.Domain, after, limit)
			return pagesAnswer{Pages: p, More: more}, err
		}
		var a pagesAnswer
		err := peer.Call(ctx, s.cfg.Client, m.InternalAddr, pathPages, pagesRequest{Domain: d.Domain, After: after, Limit: limit}, &a)
		return a, err
	})
	for _, err := range errs {
		if err != nil {
			s.cfg.Logger.Warn("a member's cache listing is missing", "err", err)
		}
	}
	urls := map[string]bool{} // URL → held in its current version somewhere
	more := false
	for _, a := range answers {
		more = more || a.More
		for _, p := range a.Pages {
			if urls[p.URL] {
				continue // already current on another member: no second version read
			}
			urls[p.URL] = slices.Contains(p.Versions, s.cfg.Pages.KeyFor(d, "", p.URL).Version)
		}
	}
	maps.DeleteFunc(urls, func(_ string, current bool) bool { return !current })
	out := slices.Sorted(maps.Keys(urls))
	if limit > 0 && len(out) > limit {
		out, more = out[:limit], true
	}
	return out, more, nil
}

// Stats counts the cached pages of all the account's domains.
func (s *Service) Stats(ctx context.Context, accountID string) (totalKeys, domains int, err error) {
	ds, err := s.cfg.Domains.List(ctx, accountID)
	if err != nil {
		return 0, 0, err
	}
	for _, d := range ds {
		pages, _, err := s.gather(ctx, d, "", 0)
		if err != nil {
			return 0, 0, err
		}
		totalKeys += len(pages)
	}
	return totalKeys, len(ds), nil
}

type purgeRequest struct {
	Domain string   `json:"domain"`
	Paths  []string `json:"paths"`
	Index  uint64   `json:"index"`
}

type purgeAnswer struct {
	Deleted int `json:"deleted"`
}

// Purge purges the account's domain (or the given paths): one raft write
// that bumps the cache version, then every live member confirms it applied
// the write and drops the pages from its L2. It returns the number of
// cached entries deleted. After it returns no live node serves the old
// pages; a node that cannot confirm in time is logged. paths are page
// references as page.NormalizeRef takes them, at most MaxRefreshPaths;
// their queries and fragments are ignored (purges work on paths), and a
// refused one fails the whole call before anything is written.
func (s *Service) Purge(ctx context.Context, accountID, host string, paths []string) (int, error) {
	norm, err := normalizePaths(paths)
	if err != nil {
		return 0, err
	}
	d, err := s.cfg.Domains.Get(ctx, accountID, host)
	if err != nil {
		return 0, err
	}
	return s.purge(ctx, d, pathsOf(norm))
}

// purge purges d, which the caller read as its account's.
func (s *Service) purge(ctx context.Context, d domain.Domain, paths []string) (int, error) {
	if err := s.cfg.Domains.Purge(ctx, d, paths); err != nil {
		return 0, err
	}
	req := purgeRequest{Domain: d.Domain, Paths: paths, Index: s.cfg.Raft.Applied()}
	counts, errs := fanOut(ctx, s, func(ctx context.Context, m Member) (int, error) {
		if m.Name == s.cfg.Self {
			return s.localPurge(ctx, req)
		}
		var a purgeAnswer
		err := peer.Call(ctx, s.cfg.Client, m.InternalAddr, pathPurge, req, &a)
		return a.Deleted, err
	})
	total := 0
	for i, n := range counts {
		if errs[i] != nil {
			s.cfg.Logger.Warn("a member did not confirm a purge in time", "domain", d.Domain, "err", errs[i])
		}
		total += n
	}
	return total, nil
}

// localPurge waits until this node applied the purge, then frees its L2.
func (s *Service) localPurge(ctx context.Context, req purgeRequest) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyWait)
	defer cancel()
	if err := s.cfg.Raft.WaitApplied(ctx, req.Index); err != nil {
		return 0, err
	}
	s.dropSitemaps(req.Domain)
	return s.cfg.Pages.LocalPurge(req.Domain, req.Paths)
}

// PurgeAll purges every domain of the account.
func (s *Service) PurgeAll(ctx context.Context, accountID string) (int, error) {
	ds, err := s.cfg.Domains.List(ctx, accountID)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, d := range ds {
		n, err := s.purge(ctx, d, nil)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// DefaultRefreshPaths are refreshed when a refresh names none.
var DefaultRefreshPaths = []string{"/", "/about", "/contact", "/shop"}

// MaxRefreshPaths bounds the paths (or URLs) of one purge, refresh or
// webhook refresh request.
const MaxRefreshPaths = 1000

// normalizePaths validates the page references of a request with
// page.NormalizeRef (absolute URLs only on hosts) and returns their
// normalised URLs, without duplicates.
func normalizePaths(paths []string, hosts ...string) ([]string, error) {
	if len(paths) > MaxRefreshPaths {
		return nil, ErrTooManyPaths
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		n, err := page.NormalizeRef(p, hosts...)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// pathsOf returns the paths of normalised URLs, without duplicates.
func pathsOf(norm []string) []string {
	out := make([]string, 0, len(norm))
	for _, u := range norm {
		if p := page.PathOf(u); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Refresh deletes the cached pages at paths of the account's domain, then
// queues their renders below live traffic. paths are page references as
// page.NormalizeRef takes them — paths, or absolute URLs on the domain —
// at most MaxRefreshPaths. kind names the jobs ("refresh", "webhook").
// With keep (the webhook refresh, a Cache API refresh with
// keepUntilReplaced) nothing is deleted: each page is re-rendered in
// place and replaced only if the quality guard accepts the new render.
func (s *Service) Refresh(ctx context.Context, accountID, host string, paths []string, kind string, keep bool) (domain.Domain, []jobs.Job, error) {
	if len(paths) > MaxRefreshPaths {
		return domain.Domain{}, nil, ErrTooManyPaths
	}
	d, err := s.cfg.Domains.Get(ctx, accountID, host)
	if err != nil {
		return domain.Domain{}, nil, err
	}
	norm, err := normalizePaths(paths, d.Domain)
	if err != nil {
		return domain.Domain{}, nil, err
	}
	out, err := s.refresh(ctx, d, norm, kind, keep)
	return d, out, err
}

// refresh purges the normalised URLs' paths on d and queues their renders,
// or with keep queues guarded re-renders without purging.
func (s *Service) refresh(ctx context.Context, d domain.Domain, norm []string, kind string, keep bool) ([]jobs.Job, error) {
	if keep {
		return s.submit(kind, d, norm, s.cfg.Jobs.SubmitGuarded)
	}
	if _, err := s.purge(ctx, d, pathsOf(norm)); err != nil {
		return nil, err
	}
	return s.submit(kind, d, norm, s.cfg.Jobs.Submit)
}

func (s *Service) submit(kind string, d domain.Domain, urls []string, submit func(kind, accountID, domain, path string) (jobs.Job, error)) ([]jobs.Job, error) {
	out := make([]jobs.Job, 0, len(urls))
	for _, u := range urls {
		j, err := submit(kind, d.AccountID, d.Domain, u)
		if err != nil {
			return out, err
		}
		out = append(out, j)
	}
	return out, nil
}

// RefreshAll refreshes paths (default "/") on every domain of the account,
// in place under the quality guard with keep (see Refresh).
func (s *Service) RefreshAll(ctx context.Context, accountID string, paths []string, keep bool) (int, []jobs.Job, error) {
	ds, err := s.cfg.Domains.List(ctx, accountID)
	if err != nil {
		return 0, nil, err
	}
	if paths == nil {
		paths = []string{"/"}
	}
	norm, err := normalizePaths(paths)
	if err != nil {
		return 0, nil, err
	}
	// List's barrier covers every domain: no read per domain.
	var all []jobs.Job
	for _, d := range ds {
		js, err := s.refresh(ctx, d, norm, "refresh", keep)
		if err != nil {
			return 0, nil, err
		}
		all = append(all, js...)
	}
	return len(ds), all, nil
}

// Job returns the account's job, asking every member.
func (s *Service) Job(ctx context.Context, accountID, id string) (jobs.Job, error) {
	if j, ok := s.cfg.Jobs.Get(id); ok {
		if j.AccountID != accountID {
			return jobs.Job{}, jobs.ErrNotFound
		}
		return j, nil
	}
	found, _ := fanOut(ctx, s, func(ctx context.Context, m Member) (*jobs.Job, error) {
		if m.Name == s.cfg.Self {
			return nil, nil
		}
		j, err := jobs.Lookup(ctx, s.cfg.Client, m.InternalAddr, id)
		if err != nil {
			return nil, nil // not there or unreachable: ask the others
		}
		return &j, nil
	})
	for _, j := range found {
		if j != nil && j.AccountID == accountID {
			return *j, nil
		}
	}
	return jobs.Job{}, jobs.ErrNotFound
}

// Warm queues renders of the pages listed in the domain's sitemap
// (default <origin>/sitemap.xml). A sitemap URL must be an absolute http(s)
// URL on the domain or its origin, and passes page.NormalizeRef; it is
// read from the origin, at the same path. The sitemap is fetched under the
// origin policy and cached until the domain's TTL or a purge.
func (s *Service) Warm(ctx context.Context, accountID, host, sitemapURL string) (domain.Domain, []jobs.Job, error) {
	d, err := s.cfg.Domains.Get(ctx, accountID, host)
	if err != nil {
		return domain.Domain{}, nil, err
	}
	o, err := origin.ParseOrigin(d.Origin)
	if err != nil {
		return domain.Domain{}, nil, err
	}
	src := d.Origin + "/sitemap.xml"
	if sitemapURL != "" {
		if strings.HasPrefix(sitemapURL, "/") {
			return domain.Domain{}, nil, ErrBadSitemapURL
		}
		ref, err := page.NormalizeRef(sitemapURL, d.Domain, o.Host)
		if errors.Is(err, page.ErrNotOnHost) || errors.Is(err, page.ErrPathStart) {
			return domain.Domain{}, nil, ErrBadSitemapURL
		}
		if err != nil {
			return domain.Domain{}, nil, err
		}
		src = d.Origin + ref
	}
	urls, err := s.sitemapURLs(ctx, d, o, src)
	if err != nil {
		return domain.Domain{}, nil, err
	}
	js, err := s.submit("warm", d, urls, s.cfg.Jobs.Submit)
	return d, js, err
}

// onOrigin rewrites u, a URL on the public domain (which may point at this
// cluster), to the same path and query on the domain's origin.
func onOrigin(d domain.Domain, u *url.URL) string {
	out := d.Origin + u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

func (s *Service) sitemapURLs(ctx context.Context, d domain.Domain, o origin.Origin, src string) ([]string, error) {
	key := d.Domain + " " + s.cfg.Pages.KeyFor(d, "", "/").Version + " " + src
	s.mu.Lock()
	e, ok := s.sitemaps[key]
	s.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.urls, nil
	}
	var urls []string
	seen := map[string]bool{}
	fetch := func(ctx context.Context, raw string) ([]byte, error) {
		// Files named on the public domain are read from the origin.
		if u, err := url.Parse(raw); err == nil && u.Hostname() == d.Domain {
			raw = onOrigin(d, u)
		}
		return s.cfg.Fetch(ctx, raw)
	}
	locs, err := sitemap.Collect(ctx, fetch, src, func(raw string) bool {
		u, err := url.Parse(raw)
		return err == nil && (u.Hostname() == d.Domain || u.Hostname() == o.Host)
	})
	if err != nil {
		return nil, err
	}
	for _, raw := range locs {
		u, _ := url.Parse(raw)
		n, err := page.NormalizeURL(u.EscapedPath(), u.RawQuery)
		if err == nil && !seen[n] {
			seen[n] = true
			urls = append(urls, n)
		}
	}
	s.mu.Lock()
	s.sitemaps[key] = sitemapEntry{urls: urls, expires: time.Now().Add(page.TTL(d))}
	s.mu.Unlock()
	return urls, nil
}

func (s *Service) dropSitemaps(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.sitemaps {
		if strings.HasPrefix(k, host+" ") {
			delete(s.sitemaps, k)
		}
	}
}

// Invalidate purges what a cache key names: render:<domain>:<path> (one
// page, as the Cache API lists it), render:<domain> (the whole domain), or
// an internal key render/<domain>/<version>/<variant>/<url> (its page).
// The domain must be the account's.
func (s *Service) Invalidate(ctx context.Context, accountID, key string) error {
	host, ref := "", ""
	switch {
	case strings.HasPrefix(key, "render:"):
		rest := strings.TrimPrefix(key, "render:")
		h, p, hasPath := strings.Cut(rest, ":")
		host = h
		if hasPath {
			if !strings.HasPrefix(p, "/") {
				return ErrBadKey
			}
			ref = p
		}
	case strings.HasPrefix(key, "render/"):
		k, err := page.ParseKey(key)
		if err != nil {
			return ErrBadKey
		}
		host, ref = k.Domain, k.URL
	default:
		return ErrBadKey
	}
	if host == "" {
		return ErrBadKey
	}
	var paths []string
	if ref != "" {
		paths = []string{ref}
	}
	_, err := s.Purge(ctx, accountID, host, paths) // validates ref
	return err
}

// Internal endpoints.
const (
	pathPages = "/internal/v1/cachectl/pages"
	pathPurge = "/internal/v1/cachectl/purge"
	// PathPrefix is where Handler is mounted on the internal listener.
	PathPrefix = "/internal/v1/cachectl/"
)

// Handler serves other nodes' listing and purge calls. Mount it at
// PathPrefix behind peer.Require.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+pathPages, peer.Handle(func(_ context.Context, q pagesRequest) (pagesAnswer, error) {
		p, more, err := s.cfg.Pages.LocalPages(q.Domain, q.After, q.Limit)
		return pagesAnswer{Pages: p, More: more}, err
	}))
	mux.Handle("POST "+pathPurge, peer.Handle(func(ctx context.Context, req purgeRequest) (purgeAnswer, error) {
		n, err := s.localPurge(ctx, req)
		return purgeAnswer{Deleted: n}, err
	}))
	mux.Handle("POST "+pathApplied, peer.Handle(func(ctx context.Context, req appliedRequest) (appliedAnswer, error) {
		return appliedAnswer{}, s.waitApplied(ctx, req.Index)
	}))
	return mux
}
