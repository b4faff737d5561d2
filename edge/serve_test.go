package edge

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

func TestServeConditional(t *testing.T) {
	a := newHTML(t, 28<<10)
	etag := a.ETag()
	gzTag := strings.TrimSuffix(etag, `"`) + `-gz"`
	lastMod := a.lastModText
	before := a.lastMod.Add(-time.Hour).Format(http.TimeFormat)
	after := a.lastMod.Add(time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name   string
		fields []string
		want   int
	}{
		{"no condition", nil, 200},
		{"If-None-Match exact", []string{"If-None-Match", etag}, 304},
		{"If-None-Match weak form", []string{"If-None-Match", "W/" + etag}, 304},
		{"If-None-Match list", []string{"If-None-Match", `"other", W/"x", ` + etag}, 304},
		{"If-None-Match two fields", []string{"If-None-Match", `"other"`, "If-None-Match", etag}, 304},
		{"If-None-Match star", []string{"If-None-Match", "*"}, 304},
		{"If-None-Match other", []string{"If-None-Match", `"other"`}, 200},
		{"If-None-Match malformed", []string{"If-None-Match", `other, ` + etag}, 200},
		{"If-None-Match of another coding", []string{"If-None-Match", gzTag}, 200},
		{"If-None-Match of the selected coding", []string{"Accept-Encoding", "gzip", "If-None-Match", gzTag}, 304},
		{"identity tag when gzip selected", []string{"Accept-Encoding", "gzip", "If-None-Match", etag}, 200},
		{"If-Modified-Since equal", []string{"If-Modified-Since", lastMod}, 304},
		{"If-Modified-Since later", []string{"If-Modified-Since", after}, 304},
		{"If-Modified-Since earlier", []string{"If-Modified-Since", before}, 200},
		{"If-Modified-Since invalid", []string{"If-Modified-Since", "yesterday"}, 200},
		{"If-Modified-Since ignored under If-None-Match", []string{"If-None-Match", `"other"`, "If-Modified-Since", after}, 200},
		{"If-Match matches", []string{"If-Match", etag}, 200},
		{"If-Match star", []string{"If-Match", "*"}, 200},
		{"If-Match other", []string{"If-Match", `"other"`}, 412},
		{"If-Match weak never matches", []string{"If-Match", "W/" + etag}, 412},
		{"If-Unmodified-Since earlier", []string{"If-Unmodified-Since", before}, 412},
		{"If-Unmodified-Since later", []string{"If-Unmodified-Since", after}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				w := serve(a, method, tc.fields...)
				if w.Code != tc.want {
					t.Fatalf("%s: status %d, want %d", method, w.Code, tc.want)
				}
				if tc.want != 200 && w.Body.Len() != 0 {
					t.Errorf("%s: %d has a body of %d bytes", method, w.Code, w.Body.Len())
				}
				if tc.want == 304 {
					h := w.Header()
					if h.Get("Etag") == "" || h.Get("Vary") == "" || h.Get("Cache-Status") == "" {
						t.Errorf("304 lacks ETag, Vary or Cache-Status: %v", h)
					}
					if h.Get("Content-Type") != "" || h.Get("Content-Length") != "" || h.Get("Content-Encoding") != "" {
						t.Errorf("304 carries representation fields: %v", h)
					}
				}
			}
		})
	}
}

func TestServeNoLastModified(t *testing.T) {
	a := New(Meta{Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("hello")}, Options{})
	w := serve(a, http.MethodGet, "If-Modified-Since", testNow.Format(http.TimeFormat))
	if w.Code != 200 || w.Header().Get("Last-Modified") != "" {
		t.Fatalf("status %d, Last-Modified %q: want 200 and none", w.Code, w.Header().Get("Last-Modified"))
	}
}

func TestServeEncoding(t *testing.T) {
	a := newHTML(t, 28<<10)
	tests := []struct {
		name string
		ae   []string // Accept-Encoding fields; nil: none
		want string   // Content-Encoding
	}{
		{"none", nil, ""},
		{"gzip", []string{"gzip"}, "gzip"},
		{"x-gzip", []string{"x-gzip"}, "gzip"},
		{"browser", []string{"gzip, deflate, br, zstd"}, "br"},
		{"upper case", []string{"GZIP, BR"}, "br"},
		{"two fields", []string{"gzip", "br"}, "br"},
		{"q prefers gzip", []string{"br;q=0.5, gzip"}, "gzip"},
		{"q with spaces", []string{"br ; q=0.5 , gzip ; q=0.8"}, "gzip"},
		{"identity preferred", []string{"gzip;q=0.5, identity"}, ""},
		{"identity only", []string{"identity"}, ""},
		{"star", []string{"*"}, "br"},
		{"star refused but gzip named", []string{"*;q=0, gzip"}, "gzip"},
		{"gzip refused", []string{"gzip;q=0"}, ""},
		{"all refused falls back to identity", []string{"identity;q=0, *;q=0"}, ""},
		{"malformed q ignored", []string{"br;q=2, gzip"}, "gzip"},
		{"deflate only", []string{"deflate"}, ""},
		{"empty", []string{""}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fields []string
			for _, v := range tc.ae {
				fields = append(fields, "Accept-Encoding", v)
			}
			w := serve(a, http.MethodGet, fields...)
			h := w.Header()
			if got := h.Get("Content-Encoding"); got != tc.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.want)
			}
			if h.Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary %q, want Accept-Encoding", h.Get("Vary"))
			}
			if got := decompress(t, tc.want, w.Body.Bytes()); !bytes.Equal(got, a.Body()) {
				t.Fatalf("%q body does not decompress to the identity body", tc.want)
			}
			if cl := h.Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
				t.Errorf("Content-Length %s, body %d", cl, w.Body.Len())
			}
			if tc.want != "" && w.Body.Len() >= len(a.Body()) {
				t.Errorf("%s body %d bytes, identity %d", tc.want, w.Body.Len(), len(a.Body()))
			}
		})
	}
}

func decompress(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(b)
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(r)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", coding, err)
	}
	return out
}

func TestServeWhatIsCompressed(t *testing.T) {
	tests := []struct {
		name       string
		typ        string
		size       int
		compressed bool
		vary       string
	}{
		{"large HTML", "text/html; charset=utf-8", 28 << 10, true, "Accept-Encoding"},
		{"tiny HTML", "text/html", 500, false, "Accept-Encoding"},
		{"JSON", "application/json", 4 << 10, true, "Accept-Encoding"},
		{"problem JSON", "application/problem+json", 4 << 10, true, "Accept-Encoding"},
		{"SVG", "image/svg+xml", 4 << 10, true, "Accept-Encoding"},
		{"PNG", "image/png", 28 << 10, false, ""},
		{"WOFF2", "font/woff2", 28 << 10, false, ""},
		{"bad type", "text/", 28 << 10, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Meta{Header: http.Header{"Content-Type": {tc.typ}}, Body: htmlPage(tc.size)}, Options{})
			w := serve(a, http.MethodGet, "Accept-Encoding", "gzip, br")
			if got := w.Header().Get("Content-Encoding") != ""; got != tc.compressed {
				t.Errorf("compressed %v, want %v", got, tc.compressed)
			}
			if got := w.Header().Get("Vary"); got != tc.vary {
				t.Errorf("Vary %q, want %q", got, tc.vary)
			}
			if got, want := w.Header().Get("Accept-Ranges"), map[bool]string{false: "bytes", true: ""}[tc.vary != ""]; got != want {
				t.Errorf("Accept-Ranges %q, want %q", got, want)
			}
		})
	}
}

func TestServeRange(t *testing.T) {
	a := newHTML(t, 28<<10)
	body := a.Body()
	size := len(body)
	gz, _ := a.Encoded(Gzip)
	gzTag := strings.TrimSuffix(a.ETag(), `"`) + `-gz"`
	tests := []struct {
		name         string
		method       string
		fields       []string
		want         int
		start, end   int    // inclusive, for 206
		contentRange string // for 206 and 416
		of           []byte // the representation ranged; nil: identity
	}{
		{name: "first bytes", fields: []string{"Range", "bytes=0-9"}, want: 206, start: 0, end: 9},
		{name: "middle", fields: []string{"Range", "bytes=100-199"}, want: 206, start: 100, end: 199},
		{name: "open ended", fields: []string{"Range", "bytes=28000-"}, want: 206, start: 28000, end: size - 1},
		{name: "past the end is clipped", fields: []string{"Range", "bytes=28000-99999"}, want: 206, start: 28000, end: size - 1},
		{name: "suffix", fields: []string{"Range", "bytes=-5"}, want: 206, start: size - 5, end: size - 1},
		{name: "suffix longer than body", fields: []string{"Range", "bytes=-999999"}, want: 206, start: 0, end: size - 1},
		{name: "spaces and empty elements", fields: []string{"Range", " bytes = , 1-2 , "}, want: 206, start: 1, end: 2},
		{name: "unit case", fields: []string{"Range", "BYTES=1-2"}, want: 206, start: 1, end: 2},
		{name: "start past the end", fields: []string{"Range", "bytes=" + strconv.Itoa(size) + "-"}, want: 416, contentRange: "bytes */" + strconv.Itoa(size)},
		{name: "empty suffix", fields: []string{"Range", "bytes=-0"}, want: 416, contentRange: "bytes */" + strconv.Itoa(size)},
		{name: "reversed is ignored", fields: []string{"Range", "bytes=5-2"}, want: 200},
		{name: "garbage is ignored", fields: []string{"Range", "bytes=a-b"}, want: 200},
		{name: "other unit is ignored", fields: []string{"Range", "items=0-1"}, want: 200},
		{name: "several ranges get the whole body", fields: []string{"Range", "bytes=0-1,5-6"}, want: 200},
		{name: "two Range fields are ignored", fields: []string{"Range", "bytes=0-1", "Range", "bytes=5-6"}, want: 200},
		{name: "HEAD ignores Range", method: http.MethodHead, fields: []string{"Range", "bytes=0-9"}, want: 200},
		{name: "If-Range tag matches", fields: []string{"Range", "bytes=0-9", "If-Range", a.ETag()}, want: 206, start: 0, end: 9},
		{name: "If-Range tag differs", fields: []string{"Range", "bytes=0-9", "If-Range", `"old"`}, want: 200},
		{name: "If-Range weak tag", fields: []string{"Range", "bytes=0-9", "If-Range", "W/" + a.ETag()}, want: 200},
		{name: "If-Range date matches", fields: []string{"Range", "bytes=0-9", "If-Range", a.lastModText}, want: 206, start: 0, end: 9},
		{name: "If-Range date differs", fields: []string{"Range", "bytes=0-9", "If-Range", a.lastMod.Add(-time.Second).Format(http.TimeFormat)}, want: 200},
		{name: "If-Range mismatch beats 416", fields: []string{"Range", "bytes=999999-", "If-Range", `"old"`}, want: 200},
		{name: "range of the gzip representation", fields: []string{"Accept-Encoding", "gzip", "Range", "bytes=0-9", "If-Range", gzTag}, want: 206, start: 0, end: 9, of: gz},
		{name: "identity tag does not resume gzip", fields: []string{"Accept-Encoding", "gzip", "Range", "bytes=0-9", "If-Range", a.ETag()}, want: 200, of: gz},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			of := body
			if tc.of != nil {
				of = tc.of
			}
			w := serve(a, method, tc.fields...)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			h := w.Header()
			switch tc.want {
			case 206:
				want := "bytes " + strconv.Itoa(tc.start) + "-" + strconv.Itoa(tc.end) + "/" + strconv.Itoa(len(of))
				if got := h.Get("Content-Range"); got != want {
					t.Errorf("Content-Range %q, want %q", got, want)
				}
				if !bytes.Equal(w.Body.Bytes(), of[tc.start:tc.end+1]) {
					t.Errorf("body is not bytes %d-%d", tc.start, tc.end)
				}
				if h.Get("Content-Length") != strconv.Itoa(tc.end-tc.start+1) {
					t.Errorf("Content-Length %s, want %d", h.Get("Content-Length"), tc.end-tc.start+1)
				}
			case 416:
				if got := h.Get("Content-Range"); got != tc.contentRange {
					t.Errorf("Content-Range %q, want %q", got, tc.contentRange)
				}
				if w.Body.Len() != 0 {
					t.Errorf("416 has a body")
				}
			case 200:
				if h.Get("Content-Range") != "" {
					t.Errorf("200 has Content-Range %q", h.Get("Content-Range"))
				}
				if h.Get("Accept-Ranges") != "" {
					t.Errorf("Accept-Ranges %q on a compressible answer", h.Get("Accept-Ranges"))
				}
				if method == http.MethodGet && !bytes.Equal(w.Body.Bytes(), of) {
					t.Errorf("200 body is not the whole representation")
				}
			}
		})
	}
}

func TestServeHead(t *testing.T) {
	a := newHTML(t, 28<<10)
	for _, ae := range []string{"", "gzip", "br"} {
		t.Run("coding "+ae, func(t *testing.T) {
			get := serve(a, http.MethodGet, "Accept-Encoding", ae)
			head := serve(a, http.MethodHead, "Accept-Encoding", ae)
			if head.Code != 200 || head.Body.Len() != 0 {
				t.Fatalf("HEAD: status %d, body %d bytes", head.Code, head.Body.Len())
			}
			for _, k := range []string{"Content-Length", "Content-Type", "Content-Encoding", "Etag", "Vary", "Last-Modified"} {
				if head.Header().Get(k) != get.Header().Get(k) {
					t.Errorf("%s: HEAD %q, GET %q", k, head.Header().Get(k), get.Header().Get(k))
				}
			}
			if head.Header().Get("Content-Length") != strconv.Itoa(get.Body.Len()) {
				t.Errorf("HEAD Content-Length %s, GET body %d", head.Header().Get("Content-Length"), get.Body.Len())
			}
		})
	}
}

func TestServeAgeAndCacheStatus(t *testing.T) {
	tests := []struct {
		name    string
		stored  time.Duration // before testNow
		outcome Outcome
		age     string
		status  string
	}{
		{"fresh hit", 90 * time.Second, Hit, "90", "rendercache; hit; ttl=210"},
		{"fraction of a second", 90*time.Second + 900*time.Millisecond, Hit, "90", "rendercache; hit; ttl=210"},
		{"stale hit", 400 * time.Second, Hit, "400", "rendercache; hit; ttl=-100"},
		{"miss", 0, Miss, "0", "rendercache; fwd=miss; stored"},
		{"clock behind the store", -5 * time.Second, Hit, "0", "rendercache; hit; ttl=300"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Meta{Body: []byte("<p>hi</p>"), StoredAt: testNow.Add(-tc.stored), TTL: 300 * time.Second}, Options{})
			w := httptest.NewRecorder()
			Serve(w, httptest.NewRequest(http.MethodGet, "/", nil), a, tc.outcome, testNow)
			if got := w.Header().Get("Age"); got != tc.age {
				t.Errorf("Age %q, want %q", got, tc.age)
			}
			if got := w.Header().Get("Cache-Status"); got != tc.status {
				t.Errorf("Cache-Status %q, want %q", got, tc.status)
			}
		})
	}
	t.Run("age moves with the clock", func(t *testing.T) {
		a := newHTML(t, 100)
		for i, want := range []string{"90", "91", "91", "95"} {
			now := testNow.Add([]time.Duration{0, time.Second, 1500 * time.Millisecond, 5 * time.Second}[i])
			w := httptest.NewRecorder()
			Serve(w, httptest.NewRequest(http.MethodGet, "/", nil), a, Hit, now)
			if got := w.Header().Get("Age"); got != want {
				t.Errorf("at +%v: Age %q, want %q", now.Sub(testNow), got, want)
			}
		}
	})
}

func TestServeHeaderBlock(t *testing.T) {
	a := New(Meta{
		Status: 200,
		Header: http.Header{
			"content-type":       {"text/html"},
			"Cache-Control":      {"public, max-age=60"},
			"Vary":               {"User-Agent"},
			"Set-Cookie":         {"session=1"},
			"Connection":         {"close"},
			"Content-Length":     {"1"},
			"Etag":               {`"origin"`},
			"X-Rendercache-Node": {"n1"},
		},
		Body: htmlPage(4 << 10),
	}, Options{Cache: "edge-test"})
	w := httptest.NewRecorder()
	w.Header().Set("X-Served-By", "n2")
	Serve(w, httptest.NewRequest(http.MethodGet, "/", nil), a, Miss, testNow)
	h := w.Header()
	want := map[string]string{
		"Content-Type": "text/html", "Cache-Control": "public, max-age=60", "Vary": "User-Agent, Accept-Encoding",
		"X-Rendercache-Node": "n1", "X-Served-By": "n2", "Set-Cookie": "", "Connection": "",
		"Content-Length": strconv.Itoa(4 << 10), "Etag": a.ETag(), "Cache-Status": "edge-test; fwd=miss; stored",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}

	// Middleware may Add to a field after Serve; the next hit must not
	// see it through the shared slice.
	h.Add("Vary", "Cookie")
	h.Add("Cache-Control", "private")
	w2 := serve(a, http.MethodGet)
	if got := w2.Header().Values("Vary"); len(got) != 1 || got[0] != "User-Agent, Accept-Encoding" {
		t.Errorf("next hit's Vary %q: a shared slice was changed", got)
	}
	if got := w2.Header().Values("Cache-Control"); len(got) != 1 {
		t.Errorf("next hit's Cache-Control %q: a shared slice was changed", got)
	}
}

func TestServeOtherStatuses(t *testing.T) {
	tests := []struct {
		name   string
		meta   Meta
		fields []string
		want   int
		body   bool
	}{
		{"404 page ignores If-None-Match", Meta{Status: 404, Body: []byte("<p>gone</p>")}, []string{"If-None-Match", "*"}, 404, true},
		{"404 page ignores Range", Meta{Status: 404, Body: []byte("<p>gone</p>")}, []string{"Range", "bytes=0-1"}, 404, true},
		{"redirect", Meta{Status: 301, Header: http.Header{"Location": {"/new"}}}, nil, 301, false},
		{"no content drops a body", Meta{Status: 204, Body: []byte("x")}, nil, 204, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := New(tc.meta, Options{})
			w := serve(a, http.MethodGet, tc.fields...)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			if got := w.Body.Len() > 0; got != tc.body {
				t.Errorf("body %q", w.Body.String())
			}
			if w.Header().Get("Accept-Ranges") != "" {
				t.Errorf("Accept-Ranges on a %d", w.Code)
			}
			if tc.meta.Header.Get("Location") != w.Header().Get("Location") {
				t.Errorf("Location %q", w.Header().Get("Location"))
			}
		})
	}
}

func TestServeMethods(t *testing.T) {
	a := newHTML(t, 100)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions} {
		w := serve(a, m)
		if w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" || w.Body.Len() != 0 {
			t.Errorf("%s: status %d, Allow %q, body %d", m, w.Code, w.Header().Get("Allow"), w.Body.Len())
		}
	}
}

// TestServeOverNetHTTP checks what reaches the wire through a real
// net/http server: a fixed length (no chunking), no sniffing, and bodies
// only where allowed.
func TestServeOverNetHTTP(t *testing.T) {
	a := newHTML(t, 28<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(w, r, a, Hit, time.Now())
	}))
	defer srv.Close()
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	tests := []struct {
		name    string
		method  string
		fields  []string
		status  int
		bodyLen int
	}{
		{"GET", http.MethodGet, nil, 200, len(a.Body())},
		{"HEAD", http.MethodHead, nil, 200, 0},
		{"gzip", http.MethodGet, []string{"Accept-Encoding", "gzip"}, 200, len(a.reps[Gzip].body)},
		{"304", http.MethodGet, []string{"If-None-Match", a.ETag()}, 304, 0},
		{"206", http.MethodGet, []string{"Range", "bytes=10-19"}, 206, 10},
		{"416", http.MethodGet, []string{"Range", "bytes=99999-"}, 416, 0},
	}
	// Small bodies get their Content-Length from net/http: still a fixed
	// length, never chunked, on either side of the threshold.
	for _, n := range []int{1, autoLength, autoLength + 1} {
		small := New(Meta{Header: http.Header{"Content-Type": {"image/png"}}, Body: bytes.Repeat([]byte{'x'}, n)}, Options{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Serve(w, r, small, Hit, time.Now()) }))
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if len(b) != n || resp.ContentLength != int64(n) || len(resp.TransferEncoding) != 0 {
			t.Errorf("%d-byte body: read %d, Content-Length %d, Transfer-Encoding %v", n, len(b), resp.ContentLength, resp.TransferEncoding)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL, nil)
			for i := 0; i+1 < len(tc.fields); i += 2 {
				req.Header.Set(tc.fields[i], tc.fields[i+1])
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || len(b) != tc.bodyLen {
				t.Fatalf("status %d with %d bytes, want %d with %d", resp.StatusCode, len(b), tc.status, tc.bodyLen)
			}
			if len(resp.TransferEncoding) != 0 {
				t.Errorf("Transfer-Encoding %v", resp.TransferEncoding)
			}
			if tc.status == 200 && resp.ContentLength != int64(len(a.reps[Identity].body)) && tc.fields == nil {
				t.Errorf("Content-Length %d", resp.ContentLength)
			}
		})
	}
}

func TestServeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	a := newHTML(t, 28<<10)
	w := &discardWriter{h: make(http.Header, 16)}
	for _, tc := range []struct {
		name   string
		fields []string
	}{
		{"identity", nil},
		{"gzip", []string{"Accept-Encoding", "gzip, deflate, br"}},
		{"304", []string{"If-None-Match", a.ETag()}},
		{"HEAD", nil},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.name == "HEAD" {
			r.Method = http.MethodHead
		}
		for i := 0; i+1 < len(tc.fields); i += 2 {
			r.Header.Set(tc.fields[i], tc.fields[i+1])
		}
		if n := testing.AllocsPerRun(100, func() {
			clear(w.h)
			Serve(w, r, a, Hit, testNow)
		}); n != 0 {
			t.Errorf("%s: %v allocations per hit, want 0", tc.name, n)
		}
	}
}

// discardWriter is the cheapest http.ResponseWriter: a reused header map
// and no output, so that benchmarks and allocation counts see Serve alone.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
