package edge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
)

// fakeSurface owns the hosts in known; a host becomes known when fresh
// runs if it is in pending (created elsewhere, not yet applied here).
type fakeSurface struct {
	mu      sync.Mutex
	known   map[string]*fakeSite
	pending map[string]*fakeSite
	claim   string // suffix of claimed hosts
	route   *fakeSite
}

func (s *fakeSurface) Name() string { return "fake" }

func (s *fakeSurface) Site(host string) (Site, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.known[host]
	if !ok {
		return nil, false
	}
	return st, true
}

func (s *fakeSurface) Claims(host string) bool {
	return s.claim != "" && strings.HasSuffix(host, s.claim)
}

func (s *fakeSurface) Route(r *http.Request) (Site, bool, error) {
	switch {
	case r.URL.Path == "/route/denied":
		return nil, true, errkind.New(errkind.Unauthorized, "no")
	case strings.HasPrefix(r.URL.Path, "/route/") && s.route != nil:
		return s.route, true, nil
	}
	return nil, false, nil
}

// apply makes pending hosts known, as a read barrier would.
func (s *fakeSurface) apply(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, st := range s.pending {
		s.known[h] = st
	}
	return nil
}

// fakeSite caches every path of its host under "fake/<host>/<version><path>";
// a path starting with /pass is not cached.
type fakeSite struct {
	host    string
	version atomic.Int64
	fills   atomic.Int64
	body    string
	fillErr error
}

func (st *fakeSite) Key(buf []byte, r *http.Request) ([]byte, bool, error) {
	if strings.HasPrefix(r.URL.Path, "/pass") {
		return buf, false, nil
	}
	if strings.HasPrefix(r.URL.Path, "/bad") {
		return buf, false, errkind.New(errkind.Invalid, "bad path")
	}
	buf = append(buf, "fake/"...)
	buf = append(buf, st.host...)
	buf = append(buf, '/', byte('0'+st.version.Load()))
	return append(buf, r.URL.Path...), true, nil
}

func (st *fakeSite) Fill(ctx context.Context, r *http.Request, key string) (*Answer, Outcome, error) {
	st.fills.Add(1)
	if st.fillErr != nil {
		return nil, 0, st.fillErr
	}
	return New(Meta{Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte(st.body + " " + key), StoredAt: testNow, TTL: time.Hour}, Options{}), Miss, nil
}

var errBypass = errors.New("bypass me")

func (st *fakeSite) Pass(w http.ResponseWriter, r *http.Request, err error) error {
	if err != nil && !errors.Is(err, errBypass) {
		return err
	}
	w.Header().Set("X-Passed", "yes")
	w.WriteHeader(http.StatusTeapot)
	return nil
}

type handlerFixture struct {
	h        *Handler
	surf     *fakeSurface
	site     *fakeSite
	fresh    atomic.Int64
	apiCalls atomic.Int64
}

func newHandlerFixture(t *testing.T) *handlerFixture {
	t.Helper()
	site := &fakeSite{host: "www.shop.test", body: "page"}
	fx := &handlerFixture{site: site, surf: &fakeSurface{
		known:   map[string]*fakeSite{"www.shop.test": site},
		pending: map[string]*fakeSite{"new.shop.test": {host: "new.shop.test", body: "new"}, "a.zone.test": {host: "a.zone.test", body: "zone"}},
		claim:   ".zone.test",
		route:   &fakeSite{host: "routed", body: "routed"},
	}}
	api := http.NewServeMux()
	api.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		fx.apiCalls.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fx.apiCalls.Add(1)
		http.NotFound(w, r)
	})
	fx.h = NewHandler(Config{
		Surfaces:  []Surface{fx.surf},
		API:       api,
		APIRoutes: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") },
		Fresh: func(ctx context.Context) error {
			fx.fresh.Add(1)
			return fx.surf.apply(ctx)
		},
		Hot:  NewHotMap(1 << 20),
		Node: "n1",
		Errors: func(w http.ResponseWriter, r *http.Request, err error) {
			code := http.StatusInternalServerError
			switch errkind.KindOf(err) {
			case errkind.NotFound:
				code = http.StatusNotFound
			case errkind.Invalid:
				code = http.StatusBadRequest
			case errkind.Unauthorized:
				code = http.StatusUnauthorized
			}
			http.Error(w, err.Error(), code)
		},
		Now: func() time.Time { return testNow },
	})
	return fx
}

func (fx *handlerFixture) get(host, path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "http://"+host+path, nil)
	w := httptest.NewRecorder()
	fx.h.ServeHTTP(w, r)
	return w
}

func TestHandlerServesSitesFromTheHotMap(t *testing.T) {
	fx := newHandlerFixture(t)
	first := fx.get("www.shop.test:8080", "/p")
	if first.Code != 200 || first.Header().Get("Cache-Status") != "rendercache; fwd=miss; stored" || first.Header().Get("X-Rendercache-Served-By") != "n1" {
		t.Fatalf("first request: %d %v", first.Code, first.Header())
	}
	second := fx.get("WWW.Shop.Test", "/p")
	if second.Code != 200 || !strings.HasPrefix(second.Header().Get("Cache-Status"), "rendercache; hit") || second.Body.String() != first.Body.String() {
		t.Fatalf("second request: %d %v %s", second.Code, second.Header(), second.Body)
	}
	if n := fx.site.fills.Load(); n != 1 {
		t.Fatalf("%d fills, want 1: the second request was not served from the hot map", n)
	}
	// A version bump (a purge) makes the next request miss.
	fx.site.version.Add(1)
	if cs := fx.get("www.shop.test", "/p").Header().Get("Cache-Status"); !strings.Contains(cs, "fwd=miss") {
		t.Fatalf("after a version bump: Cache-Status %q, want a miss", cs)
	}
	if fx.apiCalls.Load() != 0 || fx.fresh.Load() != 0 {
		t.Fatalf("a known host reached the API (%d) or took a barrier (%d)", fx.apiCalls.Load(), fx.fresh.Load())
	}
}

func TestHandlerPassesAndRefuses(t *testing.T) {
	fx := newHandlerFixture(t)
	if w := fx.get("www.shop.test", "/pass/x"); w.Code != http.StatusTeapot || w.Header().Get("X-Passed") != "yes" || w.Header().Get("Cache-Status") != "" {
		t.Fatalf("an uncached request: %d %v", w.Code, w.Header())
	}
	if w := fx.get("www.shop.test", "/bad"); w.Code != http.StatusBadRequest {
		t.Fatalf("a refused key: %d", w.Code)
	}
	fx.site.fillErr = errBypass
	if w := fx.get("www.shop.test", "/bypassed"); w.Code != http.StatusTeapot {
		t.Fatalf("a fill the site answers its own way: %d", w.Code)
	}
	fx.site.fillErr = errkind.New(errkind.Unavailable, "render failed")
	if w := fx.get("www.shop.test", "/failed"); w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "render failed") {
		t.Fatalf("a failed fill: %d %s", w.Code, w.Body)
	}
	if w := fx.get("www.shop.test", "/failed"); w.Header().Get("Cache-Status") != "" {
		t.Fatal("a failed fill was cached")
	}
}

func TestHandlerUnknownHostsGetOneFreshLookup(t *testing.T) {
	fx := newHandlerFixture(t)
	// An API route on an unknown host goes to the API at once.
	if w := fx.get("127.0.0.1:8080", "/api/keys"); w.Code != 200 || fx.fresh.Load() != 0 {
		t.Fatalf("API route: %d after %d barriers", w.Code, fx.fresh.Load())
	}
	// A host created elsewhere a moment ago: one barrier, then served.
	w := fx.get("new.shop.test", "/")
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "new ") || fx.fresh.Load() != 1 {
		t.Fatalf("new host: %d %q after %d barriers", w.Code, w.Body, fx.fresh.Load())
	}
	if fx.get("new.shop.test", "/"); fx.fresh.Load() != 1 {
		t.Fatal("a host known after the barrier took another")
	}
	// An unknown host that the API has no route for: one barrier, then
	// the API's 404.
	calls := fx.apiCalls.Load()
	if w := fx.get("nobody.test", "/x"); w.Code != 404 || fx.fresh.Load() != 2 || fx.apiCalls.Load() != calls+1 {
		t.Fatalf("unknown host: %d after %d barriers, API calls %d", w.Code, fx.fresh.Load(), fx.apiCalls.Load()-calls)
	}
	// A claimed host is refused by edge, never passed to the API, even on
	// an API path.
	calls = fx.apiCalls.Load()
	if w := fx.get("gone.zone.test", "/api/keys"); w.Code != 404 || fx.apiCalls.Load() != calls {
		t.Fatalf("claimed unknown host: %d, API calls %d", w.Code, fx.apiCalls.Load()-calls)
	}
	if w := fx.get("a.zone.test", "/"); w.Code != 200 || !strings.HasPrefix(w.Body.String(), "zone ") {
		t.Fatalf("claimed host created elsewhere: %d %s", w.Code, w.Body)
	}
	// A failed barrier cannot tell: 503-class error, not a 404.
	fx.h.cfg.Fresh = func(context.Context) error { return errkind.New(errkind.Unavailable, "no leader") }
	if w := fx.get("other.test", "/x"); w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "no leader") {
		t.Fatalf("failed barrier: %d %s", w.Code, w.Body)
	}
}

func TestHandlerRoutes(t *testing.T) {
	fx := newHandlerFixture(t)
	if w := fx.get("127.0.0.1", "/route/x"); w.Code != 200 || !strings.HasPrefix(w.Body.String(), "routed ") {
		t.Fatalf("routed: %d %s", w.Code, w.Body)
	}
	if w := fx.get("127.0.0.1", "/route/denied"); w.Code != http.StatusUnauthorized {
		t.Fatalf("refused route: %d", w.Code)
	}
	// A known host wins over a route.
	if w := fx.get("www.shop.test", "/route/x"); !strings.HasPrefix(w.Body.String(), "page ") {
		t.Fatalf("host before route: %s", w.Body)
	}
}

// A hit allocates nothing in edge: the key is built in a pooled buffer
// and the answer's header block is shared.
func TestHandlerHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	fx := newHandlerFixture(t)
	fx.get("www.shop.test", "/p")
	r := httptest.NewRequest(http.MethodGet, "http://www.shop.test/p", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	w := &discardWriter{h: make(http.Header, 16)}
	if n := testing.AllocsPerRun(200, func() {
		clear(w.h)
		fx.h.ServeHTTP(w, r)
	}); n != 0 {
		t.Fatalf("%v allocations per hit, want 0", n)
	}
	if w.status != 200 || !strings.HasPrefix(w.h.Get("Cache-Status"), "rendercache; hit") {
		t.Fatalf("not a hit: %d %v", w.status, w.h)
	}
}

func TestCanonicalHost(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"www.shop.test", "www.shop.test", true},
		{"www.shop.test:8080", "www.shop.test", true},
		{"WWW.Shop.Test.", "www.shop.test", true},
		{"127.0.0.1:80", "127.0.0.1", true},
		{"[::1]:80", "", false},
		{"", "", false},
		{"bad host", "", false},
	}
	for _, tc := range tests {
		got, ok := CanonicalHost(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CanonicalHost(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { CanonicalHost("www.shop.test:8080") }); n != 0 {
		t.Fatalf("CanonicalHost of a canonical host allocates %v times", n)
	}
}
