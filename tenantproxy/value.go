package tenantproxy

import (
	"encoding/binary"
	"encoding/json"
	"errors"
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

// encodeValue lays out a group value: the envelope's JSON length (4
// bytes), the envelope, then the answer's binary form (none for a pass).
func encodeValue(env envelope, a *edge.Answer) ([]byte, error) {
	j, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("tenant value: %w", err)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(len(j)))
	b = append(b, j...)
	if a == nil {
		return b, nil
	}
	b, err = a.AppendBinary(b)
	if err != nil {
		return nil, fmt.Errorf("tenant value: %w", err)
	}
	return b, nil
}

func decodeValue(v []byte) (envelope, *edge.Answer, error) {
	var env envelope
	if len(v) < 4 {
		return env, nil, errors.New("tenant value: short")
	}
	n := int(binary.BigEndian.Uint32(v))
	if n > len(v)-4 {
		return env, nil, errors.New("tenant value: short envelope")
	}
	if err := json.Unmarshal(v[4:4+n], &env); err != nil {
		return env, nil, fmt.Errorf("tenant value: %w", err)
	}
	if env.Pass {
		return env, nil, nil
	}
	a, err := edge.Decode(v[4+n:])
	if err != nil {
		return env, nil, fmt.Errorf("tenant value: %w", err)
	}
	return env, a, nil
}

// groupKey is a parsed group key:
// <kind>/<slug>/<version>/<ttl>.<generation>/<path and query>, where kind
// is api, html or asset.
type groupKey struct {
	kind, slug, version, pq string
}

func parseKey(key string) (groupKey, error) {
	parts := strings.SplitN(key, "/", 5)
	if len(parts) != 5 || (parts[0] != kindAPI && parts[0] != kindHTML && parts[0] != kindAsset) || parts[1] == "" {
		return groupKey{}, errBadKey
	}
	return groupKey{kind: parts[0], slug: parts[1], version: parts[2], pq: "/" + parts[4]}, nil
}
