package zone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rendercache/rendercache/edge"
)

// envelope is what the asset group holds for an object besides its
// answer: what the fill recorded, for read-time checks on every node.
type envelope struct {
	// Pass: the object is not cached (no-store, private, too large).
	Pass bool `json:"pass,omitempty"`
	// FilledAt is when the owner fetched it.
	FilledAt time.Time `json:"filledAt"`
	// TTL is its freshness lifetime.
	TTL time.Duration `json:"ttl"`
	// Tags are the origin's Cache-Tag / Surrogate-Key values, with their
	// hard and soft purge versions at fill time.
	Tags    []string `json:"tags,omitempty"`
	TagHard []uint64 `json:"tagHard,omitempty"`
	TagSoft []uint64 `json:"tagSoft,omitempty"`
	// PathSoft is the soft version of the zone, path and prefixes at fill
	// time.
	PathSoft uint64 `json:"pathSoft"`
	// ETag is the origin's, for revalidation after a soft purge.
	ETag string `json:"etag,omitempty"`
}

// MaxTags bounds the tags an object records.
const MaxTags = 32

// encodeValue lays out a group value: the envelope, then the answer's
// binary form (none for a pass), as edge.AppendEnvelope does.
func encodeValue(env envelope, a *edge.Answer) ([]byte, error) {
	b, err := edge.AppendEnvelope(env, a)
	if err != nil {
		return nil, fmt.Errorf("asset value: %w", err)
	}
	return b, nil
}

func decodeValue(v []byte) (envelope, *edge.Answer, error) {
	var env envelope
	a, err := edge.DecodeEnvelope(v, &env)
	if err != nil {
		return env, nil, fmt.Errorf("asset value: %w", err)
	}
	if env.Pass {
		return env, nil, nil
	}
	return env, a, nil
}

// parseKey splits a group key made by Key into the zone ID and the path
// with its query.
func parseKey(key string) (id, pq string, err error) {
	parts := strings.SplitN(key, "/", 5)
	if len(parts) != 5 || parts[0] != "asset" || !ValidID(parts[1]) {
		return "", "", errBadKey
	}
	return parts[1], "/" + parts[4], nil
}

// get returns key's object from the asset group: its answer, this node's
// entry for it, and whether this request filled it. A pass is errPass.
func (s *Surface) get(ctx context.Context, key string) (*edge.Answer, *entry, edge.Outcome, error) {
	start := s.cfg.Now()
	v, err := s.group.Get(ctx, key)
	if err != nil {
		return nil, nil, edge.Miss, err
	}
	env, a, err := decodeValue(v)
	if err != nil {
		return nil, nil, edge.Miss, err
	}
	if env.Pass {
		return nil, nil, edge.Miss, errPass
	}
	outcome := edge.Hit
	if !env.FilledAt.Before(start) {
		outcome = edge.Miss
	}
	e := &entry{key: key, expires: env.FilledAt.Add(env.TTL), ttl: env.TTL, env: env, answer: a}
	return a, e, outcome, nil
}

// replayed are the origin's fields an asset answer keeps.
var replayed = []string{"Cache-Control", "Content-Disposition", "Content-Language", "Access-Control-Allow-Origin", "Timing-Allow-Origin", "Cache-Tag", "Surrogate-Key"}

// fill runs on the key's owner after a cluster-wide miss: one origin
// fetch, whose answer every node then gets from the group.
func (s *Surface) fill(ctx context.Context, key string) ([]byte, error) {
	id, pq, err := parseKey(key)
	if err != nil {
		return nil, err
	}
	z, err := Lookup(s.cfg.State, id)
	if errors.Is(err, ErrNotFound) && s.cfg.Fresh != nil {
		// The asking node knows the zone: this owner may not have applied
		// its creation yet.
		if err := s.cfg.Fresh(ctx); err != nil {
			return nil, err
		}
		z, err = Lookup(s.cfg.State, id)
	}
	if err != nil {
		return nil, err
	}
	path, _, _ := strings.Cut(pq, "?")
	v := VersionsOf(s.cfg.State, z, path)
	now := s.cfg.Now()
	env := envelope{FilledAt: now, PathSoft: v.Soft}

	// A copy this node holds (it served the object before a soft purge)
	// is revalidated rather than fetched again.
	var prev *entry
	if e := s.entry("asset/" + z.ID + "/" + v.Key + pq); e != nil && e.answer != nil && e.env.ETag != "" {
		prev = e
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(z.Origin, "/")+pq, nil)
	if err != nil {
		return nil, errBadKey
	}
	req.Header.Set("User-Agent", "rendercache-zone/1")
	if prev != nil {
		req.Header.Set("If-None-Match", prev.env.ETag)
	}
	resp, err := s.fetch.Do(req)
	if err != nil {
		s.log.Info("origin fetch failed", "zone", z.ID, "path", pq, "err", err)
		return nil, ErrOrigin
	}
	defer resp.Body.Close()

	tags := tagsOf(resp.Header)
	env.Tags = tags
	for _, t := range tags {
		h, sv := TagVersion(s.cfg.State, z.ID, t)
		env.TagHard, env.TagSoft = append(env.TagHard, h), append(env.TagSoft, sv)
	}
	store, ttl, given := Freshness(resp.Header.Get("Cache-Control"))
	switch {
	case resp.StatusCode >= 500:
		return nil, ErrOrigin
	case resp.StatusCode == http.StatusNotModified && prev != nil:
		env.ETag, env.TTL = prev.env.ETag, prev.ttl
		if given {
			env.TTL = ttl
		}
		return encodeValue(env, restamp(prev.answer, now, env.TTL))
	case !store, resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound:
		env.Pass, env.TTL = true, TTLPass
		return encodeValue(env, nil)
	case resp.ContentLength > s.cfg.MaxObject:
		env.Pass, env.TTL = true, TTLPass
		return encodeValue(env, nil)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxObject+1))
	if err != nil {
		return nil, ErrOrigin
	}
	if int64(len(body)) > s.cfg.MaxObject {
		env.Pass, env.TTL = true, TTLPass
		return encodeValue(env, nil)
	}
	ct := TypeFor(path, resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		env.TTL = TTLNegative
	case given:
		env.TTL = ttl
	default:
		env.TTL = DefaultTTL(ct)
	}
	env.ETag = resp.Header.Get("Etag")
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	for _, f := range replayed {
		if v := resp.Header.Values(f); len(v) > 0 {
			h[f] = v
		}
	}
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int64(env.TTL/time.Second)))
	}
	lm, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
	a := edge.New(edge.Meta{Status: resp.StatusCode, Header: h, Body: body, LastModified: lm, StoredAt: now, TTL: env.TTL}, edge.Options{})
	return encodeValue(env, a)
}

// tagsOf returns the object's tags: Cache-Tag (comma-separated) and
// Surrogate-Key (space-separated), valid ones only, at most MaxTags.
func tagsOf(h http.Header) []string {
	var out []string
	add := func(t string) {
		if n, err := NormalizeTag(t); err == nil && len(out) < MaxTags {
			for _, o := range out {
				if o == n {
					return
				}
			}
			out = append(out, n)
		}
	}
	for _, v := range h.Values("Cache-Tag") {
		for _, t := range strings.Split(v, ",") {
			add(t)
		}
	}
	for _, v := range h.Values("Surrogate-Key") {
		for _, t := range strings.Fields(v) {
			add(t)
		}
	}
	return out
}

// restamp rebuilds a revalidated answer as fetched now with ttl.
func restamp(a *edge.Answer, now time.Time, ttl time.Duration) *edge.Answer {
	h := http.Header{}
	for _, f := range append([]string{"Content-Type", "Last-Modified"}, replayed...) {
		if v := a.Header(f); v != "" {
			h.Set(f, v)
		}
	}
	return edge.New(edge.Meta{Status: a.Status(), Header: h, Body: a.Body(), StoredAt: now, TTL: ttl}, edge.Options{})
}
