package page_test

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

// The serve path's tests run whole clusters: requests go to a node's
// public listener over HTTP, through edge and the render surface, with
// this package's Chromium rendering for every node.

const (
	googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	person    = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)

// site is a customer's origin: a JavaScript-only app whose content arrives
// through fetch(), plus a few special paths. It counts requests by path.
type site struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int
	gen  int // part of every page's content; tests bump it to tell renders apart
}

// bigText is the text of /big, a static page large enough to compress.
var bigText = strings.Repeat("<p>A cached page is written once and served many times; every node keeps it ready to write.</p>\n", 80)

func newSite(t *testing.T) *site {
	s := &site{hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		gen := s.gen
		s.mu.Unlock()
		switch {
		case r.URL.Path == "/api/data":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"text": fmt.Sprintf("content of %s (generation %d)", r.URL.Query().Get("p"), gen)})
		case r.URL.Path == "/data.json" || r.URL.Path == "/feed":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"feed":true}`)
		case r.URL.Path == "/missing":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `<html><body><h1>Not here</h1></body></html>`)
		case r.URL.Path == "/old":
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
		case r.URL.Path == "/big" || strings.HasPrefix(r.URL.Path, "/cheap"):
			// Static pages: nothing to wait for, so renders are quick.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			text := bigText
			if r.URL.Path != "/big" {
				text = "<p>cheap</p>"
			}
			fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>static</title></head><body><h1>generation %d</h1>\n%s</body></html>", gen, text)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, `<!DOCTYPE html><html><head><title>shop</title></head><body><div id="app"></div>
<script>fetch('/api/data?p='+encodeURIComponent(location.pathname)).then(r=>r.json()).then(d=>{document.getElementById('app').textContent=d.text})</script>
</body></html>`)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) setGen(g int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen = g
}

func (s *site) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// lockedBuffer collects every node's log lines, shown when a test fails.
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

// rawClient shows the test responses as they are on the wire: bodies are
// not decompressed and redirects are not followed, the way crawlers see
// them.
var rawClient = &http.Client{
	Transport:     &http.Transport{DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// servingFixture is a 3-node cluster with one agency account owning
// www.shop.test, whose origin is a local site.
type servingFixture struct {
	t    *testing.T
	c    *testcluster.Cluster
	ctx  context.Context
	f    int // a follower
	site *site
	host string
	key  string
	acct string
}

func newServingFixture(t *testing.T) *servingFixture {
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			lines := strings.Split(logs.String(), "\n")
			t.Logf("last node log lines:\n%s", strings.Join(lines[max(0, len(lines)-150):], "\n"))
		}
	})
	c := testcluster.New(t, 3, testcluster.Options{
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Renderer: browser,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	l, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fx := &servingFixture{t: t, c: c, ctx: ctx, f: (l + 1) % 3, site: newSite(t), host: "www.shop.test"}
	fx.acct, fx.key = fx.account("shop@example.com", "agency")
	if resp := fx.api(fx.f, "POST", "/api/domains", fx.key, map[string]string{"domain": fx.host, "origin": fx.site.srv.URL}); resp.Status != 201 {
		t.Fatalf("create domain: %s", resp)
	}
	if err := c.WaitRing(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// account creates an account on plan and its first key; it returns the
// account's ID and the raw key.
func (fx *servingFixture) account(email, plan string) (string, string) {
	fx.t.Helper()
	resp, err := fx.c.Do(fx.ctx, fx.f, "POST", "/admin/accounts", map[string]string{"email": email, "plan": plan})
	if err != nil || resp.Status != 201 {
		fx.t.Fatalf("create account: %v %v", resp, err)
	}
	id := resp.JSON()["id"].(string)
	resp, err = fx.c.Do(fx.ctx, fx.f, "POST", "/admin/accounts/"+id+"/api-keys", map[string]any{"name": "first", "roles": []string{}})
	if err != nil || resp.Status != 201 {
		fx.t.Fatalf("create key: %v %v", resp, err)
	}
	return id, resp.JSON()["key"].(string)
}

// api calls node i's management API with an account key.
func (fx *servingFixture) api(i int, method, path, key string, body any) *testcluster.Response {
	fx.t.Helper()
	resp, err := testcluster.Do(fx.ctx, fx.c.URL(i), method, path, "Bearer "+key, body)
	if err != nil {
		fx.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// request sends method path for host to node i with the given header
// fields (name, value pairs) and returns the response as it came.
func (fx *servingFixture) request(i int, method, host, path string, fields ...string) *testcluster.Response {
	fx.t.Helper()
	resp, err := send(fx.ctx, fx.c.URL(i), method, host, path, fields...)
	if err != nil {
		fx.t.Fatalf("%s %s%s on node %d: %v", method, host, path, i, err)
	}
	return resp
}

func send(ctx context.Context, base, method, host, path string, fields ...string) (*testcluster.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Host = host
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Add(fields[i], fields[i+1])
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return &testcluster.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, err
}

// crawl asks node i for path of the fixture's host as Googlebot.
func (fx *servingFixture) crawl(i int, path string, fields ...string) *testcluster.Response {
	fx.t.Helper()
	return fx.request(i, http.MethodGet, fx.host, path, append([]string{"User-Agent", googlebot}, fields...)...)
}

func wantRendered(t *testing.T, resp *testcluster.Response, path string) {
	t.Helper()
	body := string(resp.Body)
	if resp.Status != 200 || !strings.Contains(body, "content of "+path) {
		t.Fatalf("status %d, body without the fetched content: %s", resp.Status, body)
	}
	if strings.Contains(body, "<script") {
		t.Fatalf("scripts were not stripped: %s", body)
	}
}

// exactJSON fails unless resp is status with a JSON body equal to want.
func exactJSON(t *testing.T, resp *testcluster.Response, status int, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatalf("%d: body %q is not JSON", resp.Status, resp.Body)
	}
	json.Unmarshal([]byte(want), &exp)
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if resp.Status != status || !bytes.Equal(gb, eb) {
		t.Fatalf("got %d %s, want %d %s", resp.Status, gb, status, eb)
	}
}
