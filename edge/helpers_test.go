package edge

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// testNow is the fixed clock of the tests: answers are stored 90 s
// before it with a 300 s TTL unless a test says otherwise.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// htmlPage returns n bytes of HTML that compress like a real page: tags
// and words, not one repeated line.
func htmlPage(n int) []byte {
	words := []string{"render", "cache", "cluster", "node", "crawler", "page", "asset", "zone", "tenant",
		"origin", "header", "body", "the", "and", "of", "a", "to", "in", "for", "with"}
	r := rand.New(rand.NewPCG(uint64(n), 2))
	var b bytes.Buffer
	b.WriteString("<!doctype html><html><head><title>t</title></head><body>\n")
	for b.Len() < n {
		fmt.Fprintf(&b, "<div class=\"c%d\"><a href=\"/p/%d\">", r.IntN(50), r.IntN(100000))
		for range 8 + r.IntN(12) {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		b.WriteString("</a></div>\n")
	}
	return b.Bytes()[:n]
}

// newHTML returns a 200 text/html answer of an n-byte page, stored 90 s
// before testNow with a 300 s TTL, last modified when stored.
func newHTML(t testing.TB, n int) *Answer {
	t.Helper()
	stored := testNow.Add(-90 * time.Second)
	return New(Meta{
		Header:       http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body:         htmlPage(n),
		LastModified: stored,
		StoredAt:     stored,
		TTL:          300 * time.Second,
	}, Options{})
}

// serve runs Serve on a recorder for a request with the given header
// fields (name, value pairs).
func serve(a *Answer, method string, fields ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/page", nil)
	for i := 0; i+1 < len(fields); i += 2 {
		r.Header.Add(fields[i], fields[i+1])
	}
	w := httptest.NewRecorder()
	Serve(w, r, a, Hit, testNow)
	return w
}
