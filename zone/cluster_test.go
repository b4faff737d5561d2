package zone_test

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

	"github.com/rendercache/rendercache/testcluster"
)

// The asset surface's tests run a 3-node cluster and a local origin;
// requests go to the nodes' public listeners with the zone's host.

// assetOrigin is a zone's origin: it answers by path and counts fetches.
type assetOrigin struct {
	srv *httptest.Server
	mu  sync.Mutex
	n   map[string]int
	inm map[string]int // conditional fetches (If-None-Match) by path
	gen int
	// bodies overrides the answer of a path (benchmarks' fixed assets).
	bodies map[string]string
}

const bigSize = 20 << 20

func newOrigin(t testing.TB) *assetOrigin {
	o := &assetOrigin{n: map[string]int{}, inm: map[string]int{}, bodies: map[string]string{}}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.n[r.URL.Path]++
		gen := o.gen
		fixed, isFixed := o.bodies[r.URL.Path]
		if r.Header.Get("If-None-Match") != "" {
			o.inm[r.URL.Path]++
		}
		o.mu.Unlock()
		p := r.URL.Path
		h := w.Header()
		switch {
		case isFixed:
			io.WriteString(w, fixed)
			return
		case p == "/missing.css":
			http.NotFound(w, r)
			return
		case p == "/big.bin":
			h.Set("Content-Type", "application/octet-stream")
			h.Set("Content-Length", fmt.Sprint(bigSize))
			chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
			for i := 0; i < bigSize/len(chunk); i++ {
				w.Write(chunk)
			}
			return
		case strings.HasPrefix(p, "/nostore"):
			h.Set("Cache-Control", "no-store")
		case strings.HasPrefix(p, "/private"):
			h.Set("Cache-Control", "private, max-age=600")
		case strings.HasPrefix(p, "/short"):
			h.Set("Cache-Control", "max-age=1")
		case strings.HasPrefix(p, "/smax"):
			h.Set("Cache-Control", "max-age=5, s-maxage=77")
		case strings.HasPrefix(p, "/typed"):
			h.Set("Content-Type", "text/x-custom")
		case strings.HasPrefix(p, "/generic"):
			h.Set("Content-Type", "application/octet-stream")
		}
		if strings.HasPrefix(p, "/tagged") {
			h.Set("Cache-Tag", "product-1, all")
		}
		if strings.HasPrefix(p, "/skey") {
			h.Set("Surrogate-Key", "sk1 sk2")
		}
		etag := fmt.Sprintf(`"%s-%d"`, p, gen)
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if h.Get("Content-Type") == "" {
			// No type: the surface's table decides. Go would sniff one.
			h["Content-Type"] = nil
		}
		fmt.Fprintf(w, "asset %s generation %d %s", p, gen, strings.Repeat("x", 2000))
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *assetOrigin) count(p string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[p]
}

func (o *assetOrigin) conditional(p string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.inm[p]
}

func (o *assetOrigin) setBody(p, body string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bodies[p] = body
}

func (o *assetOrigin) bump() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gen++
}

type fixture struct {
	t   testing.TB
	c   *testcluster.Cluster
	ctx context.Context
	f   int
	key string
	// usageKey reads /v1/usage, so that polling it spends another key's
	// rate limit.
	usageKey string
	zone     string // id
	account  string
	host     string
	o        *assetOrigin
}

func newFixture(t testing.TB) *fixture {
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			lines := strings.Split(logs.String(), "\n")
			t.Logf("last node log lines:\n%s", strings.Join(lines[max(0, len(lines)-80):], "\n"))
		}
	})
	c := testcluster.New(t, 3, testcluster.Options{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	l, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, c: c, ctx: ctx, f: (l + 1) % 3, o: newOrigin(t)}
	resp, err := c.Do(ctx, fx.f, "POST", "/admin/accounts", map[string]string{"email": "cdn@example.com", "plan": "agency"})
	if err != nil || resp.Status != 201 {
		t.Fatalf("create account: %v %v", resp, err)
	}
	id := resp.JSON()["id"].(string)
	fx.account = id
	resp, err = c.Do(ctx, fx.f, "POST", "/admin/accounts/"+id+"/api-keys", map[string]any{"name": "live"})
	if err != nil || resp.Status != 201 {
		t.Fatalf("create key: %v %v", resp, err)
	}
	fx.key = resp.JSON()["key"].(string)
	resp, err = c.Do(ctx, fx.f, "POST", "/admin/accounts/"+id+"/api-keys", map[string]any{"name": "usage"})
	if err != nil || resp.Status != 201 {
		t.Fatalf("create key: %v %v", resp, err)
	}
	fx.usageKey = resp.JSON()["key"].(string)
	fx.zone, fx.host = fx.newZone("assets", fx.o.srv.URL)
	if err := c.WaitRing(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	return fx
}

func (fx *fixture) newZone(name, origin string) (id, host string) {
	fx.t.Helper()
	resp := fx.api(fx.f, "POST", "/v1/zones", map[string]string{"name": name, "origin": origin})
	if resp.Status != 201 {
		fx.t.Fatalf("create zone: %s", resp)
	}
	return resp.JSON()["id"].(string), name + ".cdn.localhost"
}

func (fx *fixture) api(i int, method, path string, body any) *testcluster.Response {
	fx.t.Helper()
	return fx.apiWith(fx.key, i, method, path, body)
}

func (fx *fixture) apiWith(key string, i int, method, path string, body any) *testcluster.Response {
	fx.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(fx.ctx, method, fx.c.URL(i)+path, rd)
	req.Header.Set("X-ResCDN-Key", key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return fx.send(req)
}

var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: time.Minute}

func (fx *fixture) send(req *http.Request) *testcluster.Response {
	fx.t.Helper()
	resp, err := rawClient.Do(req)
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

// get asks node i for path on host, with header fields as name, value
// pairs.
func (fx *fixture) get(i int, host, path string, fields ...string) *testcluster.Response {
	fx.t.Helper()
	req, _ := http.NewRequestWithContext(fx.ctx, "GET", fx.c.URL(i)+path, nil)
	req.Host = host
	for j := 0; j+1 < len(fields); j += 2 {
		req.Header.Set(fields[j], fields[j+1])
	}
	return fx.send(req)
}

// purge purges through a follower and checks every node confirmed.
func (fx *fixture) purge(query string) {
	fx.t.Helper()
	resp := fx.api(fx.f, "GET", "/v1/purge?zone="+fx.zone+query, nil)
	if resp.Status != 200 || resp.JSON()["nodes"] != float64(3) {
		fx.t.Fatalf("purge %s: %s, want purged on 3 nodes", query, resp)
	}
}

// warm makes path cached on every node and returns the origin's count.
func (fx *fixture) warm(path string) int {
	fx.t.Helper()
	for i := range 3 {
		if resp := fx.get(i, fx.host, path); resp.Status != 200 {
			fx.t.Fatalf("warm %s on node %d: %s", path, i, resp)
		}
	}
	for i := range 3 {
		if cs := fx.get(i, fx.host, path).Header.Get("Cache-Status"); !strings.Contains(cs, "hit") {
			fx.t.Fatalf("%s on node %d after warming: Cache-Status %q", path, i, cs)
		}
	}
	return fx.o.count(path)
}

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
