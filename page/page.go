package page

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Source says where a cache value came from when it was filled.
type Source string

// Sources.
const (
	FromRender Source = "render" // rendered for this fill
	FromL2     Source = "l2"     // read back from the owner's page store
)

// Page is one cached render: what the crawler gets, plus when and where it
// was made.
type Page struct {
	Status     int         `json:"status"`
	Header     http.Header `json:"header,omitempty"`
	Body       []byte      `json:"-"`
	Rendered   bool        `json:"rendered"` // false: the origin's bytes passed through (non-HTML, redirect)
	RenderedAt time.Time   `json:"renderedAt"`
	RenderedBy string      `json:"renderedBy"`
	// FilledAt and Source describe the cache fill that produced this
	// value; they tell a hit from a miss.
	FilledAt time.Time `json:"filledAt"`
	Source   Source    `json:"source"`
}

// errCorrupt means a stored or received value does not decode.
var errCorrupt = errors.New("page: corrupt value")

// Encode returns the page's value form: a 4-byte length, the JSON
// metadata, then the body as is (no base64 for megabytes of HTML).
func (p Page) Encode() []byte {
	meta, _ := json.Marshal(p)
	out := make([]byte, 4, 4+len(meta)+len(p.Body))
	binary.BigEndian.PutUint32(out, uint32(len(meta)))
	out = append(out, meta...)
	return append(out, p.Body...)
}

// Decode parses Encode's output. The body aliases b.
func Decode(b []byte) (Page, error) {
	if len(b) < 4 {
		return Page{}, errCorrupt
	}
	n := int(binary.BigEndian.Uint32(b))
	if n > len(b)-4 {
		return Page{}, errCorrupt
	}
	var p Page
	if err := json.Unmarshal(b[4:4+n], &p); err != nil {
		return Page{}, errors.Join(errCorrupt, err)
	}
	p.Body = b[4+n:]
	return p, nil
}

// Fresh reports whether the page is within ttl of its render at now.
func (p Page) Fresh(now time.Time, ttl time.Duration) bool {
	return now.Sub(p.RenderedAt) < ttl
}
