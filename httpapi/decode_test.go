package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rendercache/rendercache/errkind"
)

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"email":"a@b.co","plan":"free"}`, `{`, `[]`, `null`, `{"email":1}`, `{"x":1}`, "{}{}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		w := httptest.NewRecorder()
		var req createAccountRequest
		err := decodeJSON(w, r, 4096, &req)
		if err == nil {
			return
		}
		k := errkind.KindOf(err)
		if k != errkind.Invalid && k != errkind.TooLarge {
			t.Fatalf("decode error of kind %v for %q: %v", k, body, err)
		}
	})
}

func TestStatusOfEveryKind(t *testing.T) {
	for k := errkind.Internal; k <= errkind.Unavailable; k++ {
		s := statusOf(k)
		if (k == errkind.Internal) != (s == 500) {
			t.Errorf("kind %v maps to %d", k, s)
		}
	}
}
