package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkServe measures a hit: Serve alone on a writer that reuses its
// header map ("reused"), and with a new map per request as net/http makes
// ("fresh"), for a crawler asking for identity or gzip.
func BenchmarkServe(b *testing.B) {
	for _, size := range []int{512, 28 << 10} {
		a := newHTML(b, size)
		for _, enc := range []string{"identity", "gzip"} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("User-Agent", "Googlebot/2.1")
			if enc == "gzip" {
				r.Header.Set("Accept-Encoding", "gzip")
			}
			name := fmt.Sprintf("%s/%s", sizeName(size), enc)
			b.Run(name+"/reused", func(b *testing.B) {
				w := &discardWriter{h: make(http.Header, 16)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					Serve(w, r, a, Hit, testNow)
				}
			})
			b.Run(name+"/fresh", func(b *testing.B) {
				w := &discardWriter{}
				b.ReportAllocs()
				for b.Loop() {
					w.h = make(http.Header)
					Serve(w, r, a, Hit, testNow)
				}
			})
		}
	}
}

// BenchmarkServeContent is the alternative considered: net/http's
// ServeContent on the same bytes, with the same fields set by hand.
func BenchmarkServeContent(b *testing.B) {
	for _, size := range []int{512, 28 << 10} {
		a := newHTML(b, size)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		b.Run(sizeName(size), func(b *testing.B) {
			w := &discardWriter{h: make(http.Header, 16)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.h.Set("Content-Type", "text/html; charset=utf-8")
				w.h.Set("Etag", a.ETag())
				w.h.Set("Age", "90")
				w.h.Set("Cache-Status", "rendercache; hit; ttl=210")
				http.ServeContent(w, r, "", a.lastMod, bytes.NewReader(a.Body()))
			}
		})
	}
}

// BenchmarkNew measures a fill's one-off cost: hash, gzip and brotli.
func BenchmarkNew(b *testing.B) {
	for _, size := range []int{512, 28 << 10} {
		body := htmlPage(size)
		h := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
		b.Run(sizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				New(Meta{Header: h, Body: body, LastModified: testNow, StoredAt: testNow}, Options{})
			}
		})
	}
}

// BenchmarkDecode measures a non-owner taking an answer from the cache.
func BenchmarkDecode(b *testing.B) {
	enc, _ := newHTML(b, 28<<10).MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHotMapGet(b *testing.B) {
	m := NewHotMap(64 << 20)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("render/example.com/3/desktop/page/%d?x=y", i)
		m.Put(keys[i], newHTML(b, 512))
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.Get(keys[i%len(keys)])
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				m.Get(keys[i%len(keys)])
				i++
			}
		})
	})
	b.Run("bytes", func(b *testing.B) {
		key := []byte(keys[7])
		b.ReportAllocs()
		for b.Loop() {
			m.GetBytes(key)
		}
	})
}

func sizeName(n int) string {
	if n < 1024 {
		return "0.5KB"
	}
	return fmt.Sprintf("%dKB", n>>10)
}
