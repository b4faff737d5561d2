package tenantproxy

import (
	"fmt"
	"strings"
	"time"

	"github.com/rendercache/rendercache/edge"
)

// envelope is what a group holds for an object besides its answer.
type envelope struct {
	// Pass: the object is not cached (no-store, private, no-cache,
	// Set-Cookie, an uncacheable status, too large).
	Pass bool `json:"pass,omitempty"`
	// FilledAt is when the key's owner fetched it.
	FilledAt time.Time `json:"filledAt"`
	// TTL is its freshness lifetime.
	TTL time.Duration `json:"ttl"`
}

// encodeValue lays out a group value: the envelope, then the answer's
// binary form (none for a pass), as edge.AppendEnvelope does.
func encodeValue(env envelope, a *edge.Answer) ([]byte, error) {
	b, err := edge.AppendEnvelope(env, a)
	if err != nil {
		return nil, fmt.Errorf("tenant value: %w", err)
	}
	return b, nil
}

func decodeValue(v []byte) (envelope, *edge.Answer, error) {
	var env envelope
	a, err := edge.DecodeEnvelope(v, &env)
	if err != nil {
		return env, nil, fmt.Errorf("tenant value: %w", err)
	}
	if env.Pass {
		return env, nil, nil
	}
	return env, a, nil
}

// groupKey is a parsed group key:
// <kind>/<slug>.<tenant generation>/<version>/<ttl>.<generation>/<path
// and query>, where kind is api, html or asset.
type groupKey struct {
	kind, slug, tenantGen, version, pq string
}

func parseKey(key string) (groupKey, error) {
	parts := strings.SplitN(key, "/", 5)
	if len(parts) != 5 || (parts[0] != kindAPI && parts[0] != kindHTML && parts[0] != kindAsset) {
		return groupKey{}, errBadKey
	}
	slug, gen, ok := strings.Cut(parts[1], ".")
	if !ok || slug == "" || gen == "" {
		return groupKey{}, errBadKey
	}
	return groupKey{kind: parts[0], slug: slug, tenantGen: gen, version: parts[2], pq: "/" + parts[4]}, nil
}
