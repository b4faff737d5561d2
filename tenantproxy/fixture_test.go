package tenantproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/testcluster"
)

// The tenant surface's tests run a 3-node cluster with local origins;
// requests go to the nodes' public listeners with the tenant's host.

const (
	slug  = "acme"
	host  = slug + ".tenants.localhost"
	token = "cms-secret-token-7f3a9c"
)

// countingOrigin answers by path, counts fetches per path and keeps the
// credentials each request carried.
type countingOrigin struct {
	srv    *httptest.Server
	mu     sync.Mutex
	n      map[string]int
	gen    int
	broken bool // every answer is a 502
	// auth is the last request's Authorization, X-Cms-Token and
	// access_token query value.
	auth, header, query string
}

func newOrigin(t testing.TB, answer func(w http.ResponseWriter, r *http.Request, gen int)) *countingOrigin {
	o := &countingOrigin{n: map[string]int{}}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.n[r.URL.Path]++
		o.auth, o.header, o.query = r.Header.Get("Authorization"), r.Header.Get("X-Cms-Token"), r.URL.Query().Get("access_token")
		gen, broken := o.gen, o.broken
		o.mu.Unlock()
		if broken {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		answer(w, r, gen)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *countingOrigin) count(p string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[p]
}

func (o *countingOrigin) creds() (auth, header, query string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.auth, o.header, o.query
}

func (o *countingOrigin) setBroken(b bool) {
	o.mu.Lock()
	o.broken = b
	o.mu.Unlock()
}

// apiAnswer is a CMS API: JSON by path, a 500 under /broken, and a
// fresh-per-generation body.
func apiAnswer(w http.ResponseWriter, r *http.Request, gen int) {
	if strings.HasPrefix(r.URL.Path, "/broken") {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"path":%q,"query":%q,"gen":%d}`, r.URL.Path, r.URL.Query().Get("a"), gen)
}

// siteAnswer is a website: pages, assets, a private page and a page
// that sets a cookie.
func siteAnswer(w http.ResponseWriter, r *http.Request, gen int) {
	h := w.Header()
	switch {
	case strings.HasPrefix(r.URL.Path, "/private"):
		h.Set("Cache-Control", "private, max-age=600")
	case strings.HasPrefix(r.URL.Path, "/nostore"):
		h.Set("Cache-Control", "no-store")
	case strings.HasPrefix(r.URL.Path, "/short"):
		h.Set("Cache-Control", "max-age=1")
	case strings.HasPrefix(r.URL.Path, "/cookie"):
		h.Set("Cache-Control", "public, max-age=600")
		h.Set("Set-Cookie", "session=abc; Path=/")
	default:
		h.Set("Cache-Control", "public, max-age=600")
	}
	if strings.HasSuffix(r.URL.Path, ".css") {
		h.Set("Content-Type", "text/css")
	} else {
		h.Set("Content-Type", "text/html; charset=utf-8")
	}
	fmt.Fprintf(w, "site %s gen %d", r.URL.Path, gen)
}

type fixture struct {
	t         *testing.T
	c         *testcluster.Cluster
	ctx       context.Context
	logs      *lockedBuffer
	f         int
	key       string
	api, site *countingOrigin
}

func newFixture(t *testing.T) *fixture { return newRenderingFixture(t, nil) }

// newRenderingFixture is newFixture with a renderer for every node (nil:
// none, and a render fails).
func newRenderingFixture(t *testing.T, r page.Renderer) *fixture {
	logs := &lockedBuffer{}
	c := testcluster.New(t, 3, testcluster.Options{
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Renderer: r,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	l, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, c: c, ctx: ctx, logs: logs, f: (l + 1) % 3, api: newOrigin(t, apiAnswer), site: newOrigin(t, siteAnswer)}
	resp, err := c.Do(ctx, fx.f, "POST", "/admin/accounts", map[string]string{"email": "t@example.com", "plan": "agency"})
	if err != nil || resp.Status != 201 {
		t.Fatalf("create account: %v %v", resp, err)
	}
	id := resp.JSON()["id"].(string)
	resp, err = c.Do(ctx, fx.f, "POST", "/admin/accounts/"+id+"/api-keys", map[string]any{"name": "k"})
	if err != nil || resp.Status != 201 {
		t.Fatalf("create key: %v %v", resp, err)
	}
	fx.key = resp.JSON()["key"].(string)
	fx.mustAPI("POST", "/api/tenants", map[string]any{"slug": slug, "cms": map[string]any{"provider": "generic"}, "websiteOrigin": fx.site.srv.URL}, 201)
	fx.apiConfig("bearer", "")
	fx.mustAPI("PUT", "/api/tenants/"+slug+"/api-token", map[string]string{"token": token}, 200)
	if err := c.WaitRing(ctx); err != nil {
		t.Fatal(err)
	}
	fx.converge()
	return fx
}

func (fx *fixture) converge() {
	fx.t.Helper()
	if err := fx.c.WaitConverged(fx.ctx); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *fixture) apiConfig(mode, param string) {
	fx.t.Helper()
	fx.mustAPI("PUT", "/api/tenants/"+slug+"/api-config", map[string]any{"apiOrigin": fx.api.srv.URL, "apiAuthMode": mode, "apiAuthParam": param, "apiCacheTTL": 600, "apiPreview": true}, 200)
}

// mustAPI calls the management API on a follower as the tenant's owner.
func (fx *fixture) mustAPI(method, path string, body any, status int) map[string]any {
	fx.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(fx.ctx, method, fx.c.URL(fx.f)+path, bytes.NewReader(b))
	req.Header.Set("X-Api-Key", fx.key)
	req.Header.Set("Content-Type", "application/json")
	resp := fx.send(req)
	if resp.Status != status {
		fx.t.Fatalf("%s %s: %s, want %d", method, path, resp, status)
	}
	if len(resp.Body) == 0 {
		return nil
	}
	return resp.JSON()
}

// get asks node i for path on the tenant's host.
func (fx *fixture) get(i int, method, path string, header ...string) *testcluster.Response {
	fx.t.Helper()
	req, _ := http.NewRequestWithContext(fx.ctx, method, fx.c.URL(i)+path, nil)
	req.Host = host
	for j := 0; j+1 < len(header); j += 2 {
		req.Header.Set(header[j], header[j+1])
	}
	return fx.send(req)
}

var client = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (fx *fixture) send(req *http.Request) *testcluster.Response {
	fx.t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		fx.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		fx.t.Fatal(err)
	}
	return &testcluster.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// expect fails unless resp has status and x-cachely-cache state.
func expect(t *testing.T, resp *testcluster.Response, status int, state, what string) {
	t.Helper()
	if resp.Status != status || resp.Header.Get("X-Cachely-Cache") != state {
		t.Fatalf("%s: %s (x-cachely-cache %q), want %d %s", what, resp, resp.Header.Get("X-Cachely-Cache"), status, state)
	}
}

// lockedBuffer collects every node's log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// getHost asks node i for path on another host.
func (fx *fixture) getHost(i int, h, path string) *testcluster.Response {
	fx.t.Helper()
	req, _ := http.NewRequestWithContext(fx.ctx, "GET", fx.c.URL(i)+path, nil)
	req.Host = h
	return fx.send(req)
}

// mustAPIPublic calls an unauthenticated route (webhooks) on a follower.
func (fx *fixture) mustAPIPublic(method, path string, status int) {
	fx.t.Helper()
	req, _ := http.NewRequestWithContext(fx.ctx, method, fx.c.URL(fx.f)+path, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	if resp := fx.send(req); resp.Status != status {
		fx.t.Fatalf("%s %s: %s, want %d", method, path, resp, status)
	}
}
