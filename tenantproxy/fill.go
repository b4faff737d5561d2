package tenantproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/tenant"
	"github.com/rendercache/rendercache/zone"
)

// replayed are the origin's fields a cached answer keeps.
var replayed = []string{"Cache-Control", "Content-Disposition", "Content-Language", "Access-Control-Allow-Origin", "Timing-Allow-Origin"}

// lookup returns slug's tenant, after a fresh read when this node does
// not know it yet (the asking node did).
func (s *Surface) lookup(ctx context.Context, slug string) (tenant.Tenant, error) {
	t, err := tenant.Lookup(s.cfg.State, slug)
	if errors.Is(err, tenant.ErrNotFound) && s.cfg.Fresh != nil {
		if err := s.cfg.Fresh(ctx); err != nil {
			return tenant.Tenant{}, fmt.Errorf("tenant fill: %w", err)
		}
		t, err = tenant.Lookup(s.cfg.State, slug)
	}
	return t, err
}

// token returns the CMS token to send for t ("" for none).
func (s *Surface) token(t tenant.Tenant) (string, error) {
	if t.API.AuthMode == tenant.AuthNone || t.API.AuthMode == "" || s.cfg.Tokens == nil {
		return "", nil
	}
	tok, ok, err := s.cfg.Tokens.APIToken(t.Slug)
	if err != nil {
		// The error is about sealing, never the token's text.
		s.log.Warn("api token unavailable", "tenant", t.Slug, "err", err)
		return "", ErrToken
	}
	if !ok {
		return "", nil
	}
	return tok, nil
}

// inject adds the token to an origin request as the auth mode says.
func inject(req *http.Request, t tenant.Tenant, tok string) {
	if tok == "" {
		return
	}
	switch t.API.AuthMode {
	case tenant.AuthBearer:
		req.Header.Set("Authorization", "Bearer "+tok)
	case tenant.AuthHeader:
		req.Header.Set(t.API.AuthParam, tok)
	case tenant.AuthQuery:
		q := req.URL.Query()
		q.Set(t.API.AuthParam, tok)
		req.URL.RawQuery = q.Encode()
	}
}

// redact removes the token (as sent, and query-escaped) from s, for
// logs: a transport error quotes the URL, which in query mode holds it.
func redact(s, tok string) string {
	if tok == "" {
		return s
	}
	s = strings.ReplaceAll(s, tok, "[redacted]")
	return strings.ReplaceAll(s, url.QueryEscape(tok), "[redacted]")
}

// originURL is the origin's URL of a path and query.
func originURL(t tenant.Tenant, kind, pq string) string {
	base := t.WebsiteOrigin
	if kind == kindAPI {
		base = t.APIOrigin
	}
	return strings.TrimSuffix(base, "/") + pq
}

// fill runs on the key's owner after a cluster-wide miss: one origin
// fetch, whose answer every node then gets from the group. Origin errors
// (unreachable, 5xx) are errors, never cached.
func (s *Surface) fill(ctx context.Context, key string) ([]byte, error) {
	k, err := parseKey(key)
	if err != nil {
		return nil, err
	}
	t, err := s.lookup(ctx, k.slug)
	if err != nil {
		return nil, err
	}
	if generationOf(t) != k.tenantGen {
		// The key is an earlier tenant's of the same slug (asked by a node
		// that has not applied the delete yet): nothing of it is served.
		return nil, tenant.ErrNotFound
	}
	if (k.kind == kindAPI && t.APIOrigin == "") || (k.kind != kindAPI && t.WebsiteOrigin == "") {
		return encodeValue(envelope{Pass: true, FilledAt: s.cfg.Now(), TTL: passTTL}, nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, originURL(t, k.kind, k.pq), nil)
	if err != nil {
		return nil, errBadKey
	}
	req.Header.Set("User-Agent", "rendercache-tenant/1")
	tok := ""
	if k.kind == kindAPI {
		if tok, err = s.token(t); err != nil {
			return nil, err
		}
		inject(req, t, tok)
	}
	now := s.cfg.Now()
	resp, err := s.fetch.Do(req)
	if err != nil {
		s.log.Info("origin fetch failed", "tenant", t.Slug, "kind", k.kind, "path", k.pq, "err", redact(err.Error(), tok))
		return nil, ErrOrigin
	}
	defer resp.Body.Close()
	pass := func() ([]byte, error) { return encodeValue(envelope{Pass: true, FilledAt: now, TTL: passTTL}, nil) }
	store, ttl, given := zone.Freshness(resp.Header.Get("Cache-Control"))
	switch {
	case resp.StatusCode >= 500:
		return nil, ErrOrigin
	case !store, len(resp.Header.Values("Set-Cookie")) > 0, given && ttl <= 0,
		resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound,
		resp.ContentLength > s.cfg.MaxObject:
		return pass()
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxObject+1))
	if err != nil {
		return nil, ErrOrigin
	}
	if int64(len(body)) > s.cfg.MaxObject {
		return pass()
	}
	switch {
	case k.kind == kindAPI:
		ttl = apiTTL(t)
	case !given:
		ttl = siteTTL(t, k.kind)
	}
	if resp.StatusCode == http.StatusNotFound {
		ttl = min(ttl, negativeTTL)
	}
	h := http.Header{}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		h.Set("Content-Type", ct)
	}
	for _, f := range replayed {
		if v := resp.Header.Values(f); len(v) > 0 {
			h[f] = v
		}
	}
	if k.kind == kindAPI {
		// The API's lifetime is the tenant's, whatever the CMS says.
		h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int64(ttl/time.Second)))
	} else if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int64(ttl/time.Second)))
	}
	h.Set("X-Cachely-Version", k.kind+"."+k.version)
	lm, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
	a := edge.New(edge.Meta{Status: resp.StatusCode, Header: h, Body: body, LastModified: lm, StoredAt: now, TTL: ttl}, edge.Options{})
	return encodeValue(envelope{FilledAt: now, TTL: ttl}, a)
}
