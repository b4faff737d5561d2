package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rendercache/rendercache/internal/errkind"
)

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"email":"a@b.co","plan":"free"}`, `{`, `[]`, `null`, `{"email":1}`, `{"x":1}`, "{}{}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		w := httptest.NewRecorder()
		var req struct {
			Email string `json:"email"`
			Plan  string `json:"plan"`
		}
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
	want := map[errkind.Kind]int{
		errkind.Internal: 500, errkind.Invalid: 400, errkind.Unauthorized: 401, errkind.Forbidden: 403,
		errkind.NotFound: 404, errkind.Conflict: 409, errkind.TooLarge: 413, errkind.TooMany: 429,
		errkind.Unavailable: 503, errkind.BadMethod: 405,
	}
	for k := errkind.Internal; k <= errkind.BadMethod; k++ {
		w, ok := want[k]
		if !ok {
			t.Errorf("kind %v has no expected status in this table", k)
			continue
		}
		if s := statusOf(k); s != w {
			t.Errorf("kind %v maps to %d, want %d", k, s, w)
		}
	}
}
