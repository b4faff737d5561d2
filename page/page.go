package page

import (
	"encoding/binary"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/rendercache/rendercache/edge"
)

// Source says where a cache value came from when it was filled.
type Source byte

// Sources.
const (
	FromRender Source = iota + 1 // rendered for this fill
	FromL2                       // read back from the owner's page store
)

// Page is what one render produced: the fill turns it into the
// edge.Answer that every node serves, once.
type Page struct {
	Status int
	// Header holds what the render says about the page (Content-Type,
	// Location of a redirect, headers set with <meta
	// name="prerender-header">).
	Header http.Header
	Body   []byte
	// Rendered is false when the origin's answer passed through without
	// Chromium (a redirect, a body that is not HTML).
	Rendered   bool
	RenderedAt time.Time
	// RenderedBy names the node that rendered it (X-Rendercache-Node).
	RenderedBy string
	// TTL is the domain's freshness lifetime at render time.
	TTL time.Duration
}

// answerOptions are the page answers' edge options: the defaults, with
// Cache-Status naming rendercache.
var answerOptions = edge.Options{Cache: "rendercache"}

// Answer builds the page's edge.Answer: the header block (with
// X-Rendercache-Node and Vary: User-Agent, since crawlers get another
// answer than people), the ETag and the gzip and br bodies, computed here
// once so that no node ever compresses the page again.
func (p Page) Answer() *edge.Answer {
	h := make(http.Header, len(p.Header)+2)
	for k, vs := range p.Header {
		ck := http.CanonicalHeaderKey(k)
		// The render's body is decoded whatever the origin sent.
		if ck == "Content-Encoding" || len(vs) == 0 {
			continue
		}
		h[ck] = append(h[ck], vs...)
	}
	h["X-Rendercache-Node"] = []string{p.RenderedBy}
	h["Vary"] = append(slices.Clip(h["Vary"]), "User-Agent")
	return edge.New(edge.Meta{
		Status:       p.Status,
		Header:       h,
		Body:         p.Body,
		LastModified: p.RenderedAt,
		StoredAt:     p.RenderedAt,
		TTL:          p.TTL,
	}, answerOptions)
}

// Encode returns the page's value form, which the cache and the L2 hold:
// a small envelope (how the value was filled, when the page was rendered)
// and the answer's binary form (edge.Answer.AppendBinary), compressed
// bodies included.
func (p Page) Encode() []byte {
	return appendValue(nil, valueMeta{source: FromRender, filledAt: p.RenderedAt, renderedAt: p.RenderedAt}, p.Answer())
}

// valueMagic starts every value; its last byte is the format's version.
// Values of an older format do not decode, and are rendered again.
const valueMagic = "rcp\x02"

// errCorrupt means a stored or received value does not decode.
var errCorrupt = errors.New("page: corrupt value")

// valueMeta is a value's envelope: the fill that produced it, and the
// render time, which tells the owner whether an L2 copy is stale without
// decoding the answer.
type valueMeta struct {
	source     Source
	filledAt   time.Time
	renderedAt time.Time
}

// appendValue appends the value of a with envelope m to b.
func appendValue(b []byte, m valueMeta, a *edge.Answer) []byte {
	b = appendMeta(b, m)
	b, _ = a.AppendBinary(b) // never fails
	return b
}

func appendMeta(b []byte, m valueMeta) []byte {
	b = append(b, valueMagic...)
	b = append(b, byte(m.source))
	b = binary.AppendVarint(b, m.filledAt.UnixNano())
	return binary.AppendVarint(b, m.renderedAt.UnixNano())
}

// parseValue splits a value into its envelope and the answer's binary
// form, which aliases b.
func parseValue(b []byte) (valueMeta, []byte, error) {
	if len(b) < len(valueMagic)+3 || string(b[:len(valueMagic)]) != valueMagic {
		return valueMeta{}, nil, errCorrupt
	}
	b = b[len(valueMagic):]
	m := valueMeta{source: Source(b[0])}
	if m.source != FromRender && m.source != FromL2 {
		return valueMeta{}, nil, errCorrupt
	}
	b = b[1:]
	filled, n := binary.Varint(b)
	if n <= 0 {
		return valueMeta{}, nil, errCorrupt
	}
	b = b[n:]
	rendered, n := binary.Varint(b)
	if n <= 0 {
		return valueMeta{}, nil, errCorrupt
	}
	m.filledAt, m.renderedAt = time.Unix(0, filled), time.Unix(0, rendered)
	return m, b[n:], nil
}

// DecodeValue returns the answer a cache or L2 value holds, for tools and
// tests that read a node's L2 directly.
func DecodeValue(v []byte) (*edge.Answer, error) {
	_, ans, err := parseValue(v)
	if err != nil {
		return nil, err
	}
	return edge.Decode(ans)
}

// restamp returns a new value of the answer bytes ans under envelope m:
// the L2 fill marks its value as its own without decoding or compressing
// the page again.
func restamp(m valueMeta, ans []byte) []byte {
	b := make([]byte, 0, len(valueMagic)+21+len(ans))
	b = appendMeta(b, m)
	return append(b, ans...)
}

// Fresh reports whether a page rendered at renderedAt is within ttl at
// now.
func Fresh(renderedAt, now time.Time, ttl time.Duration) bool {
	return now.Sub(renderedAt) < ttl
}
