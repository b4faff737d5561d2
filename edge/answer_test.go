package edge

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	t.Run("sniffs a missing type once", func(t *testing.T) {
		a := New(Meta{Body: []byte("<!doctype html><p>hi</p>")}, Options{})
		if got := serve(a, http.MethodGet).Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("Content-Type %q", got)
		}
	})
	t.Run("an empty type is sniffed too", func(t *testing.T) {
		a := New(Meta{Header: http.Header{"Content-Type": {""}}, Body: []byte("{}")}, Options{})
		if got := serve(a, http.MethodGet).Header().Values("Content-Type"); len(got) != 1 || got[0] == "" {
			t.Errorf("Content-Type %q", got)
		}
	})
	t.Run("pre-encoded bodies are served as they are", func(t *testing.T) {
		gz := gzipBody(htmlPage(4<<10), 9)
		a := New(Meta{Header: http.Header{"Content-Type": {"text/html"}, "Content-Encoding": {"gzip"}}, Body: gz}, Options{})
		if _, ok := a.Encoded(Gzip); ok {
			t.Fatal("a gzip body was compressed again")
		}
		w := serve(a, http.MethodGet, "Accept-Encoding", "br")
		if w.Header().Get("Content-Encoding") != "gzip" || !bytes.Equal(w.Body.Bytes(), gz) {
			t.Errorf("Content-Encoding %q, %d bytes", w.Header().Get("Content-Encoding"), w.Body.Len())
		}
	})
	t.Run("identity Content-Encoding is dropped", func(t *testing.T) {
		a := New(Meta{Header: http.Header{"Content-Type": {"text/html"}, "Content-Encoding": {"identity"}}, Body: htmlPage(4 << 10)}, Options{})
		if _, ok := a.Encoded(Gzip); !ok {
			t.Fatal("not compressed")
		}
	})
	t.Run("incompressible bodies stay identity", func(t *testing.T) {
		body := gzipBody(htmlPage(8<<10), 9) // looks random
		a := New(Meta{Header: http.Header{"Content-Type": {"text/plain"}}, Body: body}, Options{})
		if _, ok := a.Encoded(Gzip); ok {
			t.Error("kept a gzip body larger than the identity body")
		}
	})
	t.Run("one ETag per content", func(t *testing.T) {
		x, y, z := newHTML(t, 2000), newHTML(t, 2000), newHTML(t, 2001)
		if x.ETag() != y.ETag() || x.ETag() == z.ETag() {
			t.Errorf("ETags %s %s %s", x.ETag(), y.ETag(), z.ETag())
		}
		if !strings.HasPrefix(x.ETag(), `"`) || len(x.ETag()) != 22 {
			t.Errorf("ETag %s is not a quoted 20-character hash", x.ETag())
		}
	})
	t.Run("size counts every body", func(t *testing.T) {
		a := newHTML(t, 28<<10)
		gz, _ := a.Encoded(Gzip)
		br, _ := a.Encoded(Brotli)
		if min := int64(len(a.Body()) + len(gz) + len(br)); a.Size() < min {
			t.Errorf("Size %d < bodies %d", a.Size(), min)
		}
	})
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Options{}).Validate(); err != nil {
		t.Fatal(err)
	}
	err := Options{MinCompress: -1, GzipLevel: 12, BrotliQuality: 12, Cache: "a b"}.Validate()
	for _, want := range []string{"MinCompress", "GzipLevel", "BrotliQuality", "Cache"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not report %s: %v", want, err)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	answers := map[string]*Answer{
		"page": newHTML(t, 28<<10),
		"tiny": New(Meta{Body: []byte("x"), TTL: time.Minute}, Options{}),
		"redirect": New(Meta{Status: 302, Header: http.Header{"Location": {"/a", "/b"}, "Vary": {"User-Agent"}},
			StoredAt: testNow}, Options{Cache: "other"}),
	}
	requests := [][]string{
		nil,
		{"Accept-Encoding", "gzip"},
		{"Accept-Encoding", "br"},
		{"Range", "bytes=5-10"},
		{"If-Modified-Since", testNow.Format(http.TimeFormat)},
	}
	for name, a := range answers {
		t.Run(name, func(t *testing.T) {
			b, err := a.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			d, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if d.Size() != a.Size() || d.Fresh(testNow) != a.Fresh(testNow) || !d.StoredAt().Equal(a.StoredAt()) || d.TTL() != a.TTL() {
				t.Errorf("decoded Size/Fresh/StoredAt/TTL differ")
			}
			for _, fields := range requests {
				for _, m := range []string{http.MethodGet, http.MethodHead} {
					x, y := serve(a, m, fields...), serve(d, m, fields...)
					if x.Code != y.Code || !bytes.Equal(x.Body.Bytes(), y.Body.Bytes()) || !equalHeader(x.Header(), y.Header()) {
						t.Errorf("%s %v: decoded answer serves differently:\n%d %v\n%d %v", m, fields, x.Code, x.Header(), y.Code, y.Header())
					}
				}
			}
		})
	}
}

func equalHeader(x, y http.Header) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if strings.Join(v, "\n") != strings.Join(y[k], "\n") {
			return false
		}
	}
	return true
}

func TestDecodeCorrupt(t *testing.T) {
	b, _ := newHTML(t, 2000).MarshalBinary()
	for n := range len(b) {
		if _, err := Decode(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: err %v, want ErrCorrupt", n, err)
		}
	}
	if _, err := Decode(append(b, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: err %v", err)
	}
	bad := bytes.Clone(b)
	bad[3] = 9
	if _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("other version: err %v", err)
	}
}
