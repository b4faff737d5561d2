package edge

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/bits"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
)

// Coding names one content coding that an Answer may hold a body for.
type Coding uint8

// The codings an Answer can carry. Identity is always present.
const (
	Identity Coding = iota
	Gzip
	Brotli
	numCodings
)

// String returns the coding's Content-Encoding token.
func (c Coding) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Brotli:
		return "br"
	default:
		return "identity"
	}
}

// Options says how New builds answers: how hard to compress, and what to
// call the cache in Cache-Status. Fields left zero take their defaults.
type Options struct {
	// Cache is the cache's name in Cache-Status (RFC 9211).
	// Default "rendercache".
	Cache string
	// MinCompress is the smallest body, in bytes, that gets compressed
	// bodies: below it the saving is less than a packet's worth and the
	// answer stays identity only. Default 1024.
	MinCompress int
	// GzipLevel is compress/gzip's level. Default gzip.BestCompression:
	// it is paid once per fill, and every hit sends fewer bytes.
	GzipLevel int
	// BrotliQuality is brotli's quality, 1 to 11. Default 6: as fast as
	// gzip's best and a little smaller, a few milliseconds for a 28 KB
	// page. 11 is about 12% smaller again but costs tens to hundreds of
	// milliseconds per fill, which a miss waits for: worth it only where
	// the fill is slow anyway (a render), not for origin fetches.
	BrotliQuality int
}

// DefaultOptions returns the Options that New uses for zero fields.
func DefaultOptions() Options {
	return Options{Cache: "rendercache", MinCompress: 1024, GzipLevel: gzip.BestCompression, BrotliQuality: 6}
}

// Validate reports every setting that New would replace by its default.
func (o Options) Validate() error {
	var errs []error
	if o.MinCompress < 0 {
		errs = append(errs, fmt.Errorf("MinCompress %d: must not be negative", o.MinCompress))
	}
	if o.GzipLevel != 0 && (o.GzipLevel < gzip.HuffmanOnly || o.GzipLevel > gzip.BestCompression) {
		errs = append(errs, fmt.Errorf("GzipLevel %d: must be from %d to %d", o.GzipLevel, gzip.HuffmanOnly, gzip.BestCompression))
	}
	if o.BrotliQuality < 0 || o.BrotliQuality > brotli.BestCompression {
		errs = append(errs, fmt.Errorf("BrotliQuality %d: must be from 1 to %d", o.BrotliQuality, brotli.BestCompression))
	}
	if strings.ContainsAny(o.Cache, ";,\" \t\r\n") {
		errs = append(errs, fmt.Errorf("option Cache %q: must be a token", o.Cache))
	}
	return errors.Join(errs...)
}

// withDefaults fills zero and invalid fields from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Cache == "" || strings.ContainsAny(o.Cache, ";,\" \t\r\n") {
		o.Cache = d.Cache
	}
	if o.MinCompress <= 0 {
		o.MinCompress = d.MinCompress
	}
	if o.GzipLevel == 0 || o.GzipLevel < gzip.HuffmanOnly || o.GzipLevel > gzip.BestCompression {
		o.GzipLevel = d.GzipLevel
	}
	if o.BrotliQuality <= 0 || o.BrotliQuality > brotli.BestCompression {
		o.BrotliQuality = d.BrotliQuality
	}
	return o
}

// Meta is what a fill knows about one response, the input to New.
type Meta struct {
	// Status is the response's status code. Default 200.
	Status int
	// Header holds the end-to-end fields to replay on every answer, such
	// as Content-Type, Cache-Control, Location or the node that rendered
	// it. Hop-by-hop fields, Set-Cookie (it belongs to one visitor, never
	// to a cache) and the fields that edge writes itself (Content-Length,
	// Content-Range, Accept-Ranges, ETag, Last-Modified, Age, Date,
	// Cache-Status) are dropped; Vary is kept and merged with
	// Accept-Encoding. A Content-Encoding other than identity means Body
	// is already encoded: it is served as it is and never compressed again.
	Header http.Header
	// Body is the identity body. New keeps it without copying: the caller
	// must not change it afterwards.
	Body []byte
	// LastModified is the Last-Modified of the content; zero sends none
	// and ignores If-Modified-Since.
	LastModified time.Time
	// StoredAt is when the content was made (a page's render time), the
	// origin of Age and of the Cache-Status ttl. Zero means now.
	StoredAt time.Time
	// TTL is the content's freshness lifetime: Cache-Status reports
	// ttl = TTL − Age on a hit, negative once stale.
	TTL time.Duration
}

// Answer is one cached response, decoded, hashed and compressed once and
// ready to write on every hit without further work. It is immutable after
// New or Decode, and safe for concurrent use.
type Answer struct {
	status      int
	cache       string
	storedAt    time.Time
	ttl         time.Duration
	lastMod     time.Time // truncated to seconds; zero if none
	lastModText string
	lastModVal  []string
	vary        []string
	// compressible: the content type gains from compression. Such
	// answers vary on Accept-Encoding and do not advertise Accept-Ranges
	// (they still honour Range): ranges matter for media and downloads,
	// and every field costs each hit a map insert.
	compressible bool
	header       []field // sorted by key; every value slice is clipped
	hash         string  // content hash of the identity body
	have         uint8   // bit c set: reps[c] exists
	reps         [numCodings]rep
	miss         []string // Cache-Status of a miss
	size         int64

	// clock caches Age and the hit's Cache-Status for the current second
	// of age, so that a hit formats no numbers.
	clock atomic.Pointer[clock]
}

// field is one header field of the pre-built block.
type field struct {
	key  string
	vals []string
}

// rep is one representation: a body in one coding and its own strong
// ETag (different codings are different representations, so a Range
// resumed under If-Range never mixes their bytes).
type rep struct {
	body     []byte
	etag     []string
	length   []string
	encoding []string // nil for identity
}

type clock struct {
	age int64
	ageVal,
	hitVal []string
}

// droppedFields are never replayed from Meta.Header: hop-by-hop fields,
// cookies, and the fields Serve writes itself. Keys are canonical.
var droppedFields = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Transfer-Encoding": true,
	"Te": true, "Trailer": true, "Upgrade": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Set-Cookie": true, "Content-Length": true, "Content-Range": true, "Accept-Ranges": true,
	"Etag": true, "Last-Modified": true, "Age": true, "Date": true, "Cache-Status": true, "Vary": true,
}

// New builds the answer of a fill: it hashes the body for the ETag, and
// compresses it with gzip and brotli when the content type is compressible
// and the body is at least Options.MinCompress bytes, keeping each coding
// only when it is smaller than the identity body. This is the whole cost
// of serving: Serve does none of it again.
func New(m Meta, o Options) *Answer {
	o = o.withDefaults()
	status := m.Status
	if status == 0 {
		status = http.StatusOK
	}
	body := m.Body
	if !bodyAllowed(status) {
		body = nil
	}
	storedAt := m.StoredAt
	if storedAt.IsZero() {
		storedAt = time.Now()
	}
	a := &Answer{status: status, cache: o.Cache, storedAt: storedAt, ttl: m.TTL}
	if !m.LastModified.IsZero() {
		a.setLastModified(m.LastModified)
	}

	var vary []string
	contentType, encoded := "", false
	for k, vs := range m.Header {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Vary" {
			vary = append(vary, vs...)
		}
		if droppedFields[ck] || len(vs) == 0 {
			continue
		}
		switch ck {
		case "Content-Type":
			if contentType = strings.TrimSpace(vs[0]); contentType == "" {
				continue
			}
		case "Content-Encoding":
			encoded = !strings.EqualFold(strings.TrimSpace(vs[0]), "identity")
			if !encoded {
				continue
			}
		}
		a.header = append(a.header, field{ck, slices.Clip(slices.Clone(vs))})
	}
	// net/http would sniff the type on every hit; sniff it once here.
	if contentType == "" && len(body) > 0 {
		contentType = http.DetectContentType(body)
		a.header = append(a.header, field{"Content-Type", []string{contentType}})
	}
	slices.SortFunc(a.header, func(x, y field) int { return strings.Compare(x.key, y.key) })

	compressible := !encoded && bodyAllowed(status) && Compressible(contentType)
	a.compressible = compressible
	a.setVary(strings.Join(vary, ", "), compressible)
	a.hash = contentHash(body)
	a.addRep(Identity, body)
	if compressible && len(body) >= o.MinCompress {
		if gz := gzipBody(body, o.GzipLevel); len(gz) < len(body) {
			a.addRep(Gzip, gz)
		}
		if br := brotliBody(body, o.BrotliQuality); len(br) < len(body) {
			a.addRep(Brotli, br)
		}
	}
	a.finish()
	return a
}

// bodyAllowed reports whether a response with status may carry a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// setLastModified records t, truncated to HTTP's one-second precision.
func (a *Answer) setLastModified(t time.Time) {
	a.lastMod = t.UTC().Truncate(time.Second)
	a.lastModText = a.lastMod.Format(http.TimeFormat)
	a.lastModVal = []string{a.lastModText}
}

// setVary builds the Vary value from the fill's own Vary and, for a
// compressible answer, Accept-Encoding: it is sent on every such answer,
// even one too small to compress, so that no cache downstream keys it
// wrongly if a later fill is larger.
func (a *Answer) setVary(given string, compressible bool) {
	var tokens []string
	for t := range strings.SplitSeq(given, ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.ContainsFunc(tokens, func(s string) bool { return strings.EqualFold(s, t) }) {
			tokens = append(tokens, t)
		}
	}
	if compressible && !slices.ContainsFunc(tokens, func(s string) bool { return strings.EqualFold(s, "Accept-Encoding") }) {
		tokens = append(tokens, "Accept-Encoding")
	}
	if len(tokens) > 0 {
		a.vary = []string{strings.Join(tokens, ", ")}
	}
}

// addRep adds the body of coding c with its ETag and Content-Length.
func (a *Answer) addRep(c Coding, body []byte) {
	r := rep{body: body, length: []string{strconv.Itoa(len(body))}}
	switch c {
	case Identity:
		r.etag = []string{`"` + a.hash + `"`}
	case Gzip:
		r.etag, r.encoding = []string{`"` + a.hash + `-gz"`}, []string{"gzip"}
	case Brotli:
		r.etag, r.encoding = []string{`"` + a.hash + `-br"`}, []string{"br"}
	}
	a.reps[c] = r
	a.have |= 1 << c
}

// finish computes what is derived from the rest: the miss's Cache-Status
// and the answer's size for the hot map's byte bound.
func (a *Answer) finish() {
	a.miss = []string{a.cache + "; fwd=miss; stored"}
	size := int64(answerOverhead + len(a.cache) + len(a.hash) + len(a.lastModText))
	for _, f := range a.header {
		size += int64(len(f.key)) + fieldOverhead
		for _, v := range f.vals {
			size += int64(len(v)) + stringOverhead
		}
	}
	for _, v := range a.vary {
		size += int64(len(v))
	}
	for c := range numCodings {
		if a.have&(1<<c) != 0 {
			size += int64(len(a.reps[c].body))
		}
	}
	a.size = size
}

// Rough costs of the structures around the bytes, for Size.
const (
	answerOverhead = 640
	fieldOverhead  = 48
	stringOverhead = 16
)

// contentHash is the ETag's opaque part: 120 bits of SHA-256 of the body
// in unpadded base64url, 20 characters.
func contentHash(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.RawURLEncoding.EncodeToString(sum[:15])
}

func gzipBody(body []byte, level int) []byte {
	var buf bytes.Buffer
	buf.Grow(len(body) / 3)
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		return nil
	}
	zw.Write(body) // a bytes.Buffer never fails
	zw.Close()
	return slices.Clip(buf.Bytes())
}

func brotliBody(body []byte, quality int) []byte {
	var buf bytes.Buffer
	buf.Grow(len(body) / 4)
	// A window just larger than the body: the default 4 MB window costs
	// more to set up than a page takes to compress.
	lgwin := min(max(bits.Len(uint(len(body))), 10), 22)
	bw := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: quality, LGWin: lgwin})
	bw.Write(body) // a bytes.Buffer never fails
	bw.Close()
	return slices.Clip(buf.Bytes())
}

// Compressible reports whether content of type contentType (a
// Content-Type value) gains from gzip or brotli: text, JSON, JavaScript,
// XML, SVG, WebAssembly and uncompressed fonts. Images, audio, video,
// WOFF fonts and archives are compressed already.
func Compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") {
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/x-javascript", "application/ecmascript",
		"application/xml", "application/wasm", "application/x-ndjson", "application/graphql-response+json",
		"image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "image/bmp",
		"font/ttf", "font/otf", "application/vnd.ms-fontobject", "application/x-font-ttf":
		return true
	}
	return false
}

// Status returns the answer's status code.
func (a *Answer) Status() int { return a.status }

// Body returns the identity body. It is shared: callers must not change it.
func (a *Answer) Body() []byte { return a.reps[Identity].body }

// Encoded returns the body in coding c, and whether the answer has one:
// only compressible answers of at least Options.MinCompress bytes do.
func (a *Answer) Encoded(c Coding) ([]byte, bool) {
	if c >= numCodings || a.have&(1<<c) == 0 {
		return nil, false
	}
	return a.reps[c].body, true
}

// ETag returns the identity representation's strong ETag, quotes
// included; a compressed representation's tag adds "-gz" or "-br".
func (a *Answer) ETag() string { return a.reps[Identity].etag[0] }

// StoredAt returns when the content was made, the origin of Age.
func (a *Answer) StoredAt() time.Time { return a.storedAt }

// TTL returns the content's freshness lifetime.
func (a *Answer) TTL() time.Duration { return a.ttl }

// WithTTL returns the answer with freshness lifetime ttl and everything
// else shared (bodies, header block): a domain whose TTL changed gets
// the right Cache-Status ttl from its stored answers without compressing
// them again. a itself is unchanged.
func (a *Answer) WithTTL(ttl time.Duration) *Answer {
	if ttl == a.ttl {
		return a
	}
	b := &Answer{
		status: a.status, cache: a.cache, storedAt: a.storedAt, ttl: ttl,
		lastMod: a.lastMod, lastModText: a.lastModText, lastModVal: a.lastModVal,
		vary: a.vary, compressible: a.compressible, header: a.header, hash: a.hash,
		have: a.have, reps: a.reps, size: a.size,
	}
	b.miss = a.miss
	return b
}

// Header returns the first value of the replayed header field key (in
// canonical form), or "": for fills and tests that read what an answer
// carries, never for the hot path.
func (a *Answer) Header(key string) string {
	for _, f := range a.header {
		if f.key == key {
			return f.vals[0]
		}
	}
	return ""
}

// Fresh reports whether the answer is within its TTL at now.
func (a *Answer) Fresh(now time.Time) bool { return now.Sub(a.storedAt) < a.ttl }

// Size returns the bytes the answer holds, bodies and header block
// included: what it costs in a HotMap.
func (a *Answer) Size() int64 { return a.size }

// clockAt returns Age and the hit's Cache-Status at now, formatted once
// per second of age and shared by every hit in that second.
func (a *Answer) clockAt(now time.Time) *clock {
	age := max(int64(now.Sub(a.storedAt)/time.Second), 0)
	if c := a.clock.Load(); c != nil && c.age == age {
		return c
	}
	c := &clock{
		age:    age,
		ageVal: []string{strconv.FormatInt(age, 10)},
		hitVal: []string{a.cache + "; hit; ttl=" + strconv.FormatInt(int64(a.ttl/time.Second)-age, 10)},
	}
	a.clock.Store(c)
	return c
}
