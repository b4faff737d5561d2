package tenants_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// fixture is a 3-node cluster whose requests go to followers, with every
// node's logs kept for the secrets scan.
type fixture struct {
	t    *testing.T
	c    *testcluster.Cluster
	ctx  context.Context
	dir  string
	logs *lockedBuffer
	f, g int // the two followers

	mu      sync.Mutex
	secrets []string // every raw secret handed out, for the scan
}

func newFixture(t *testing.T) *fixture {
	logs := &lockedBuffer{}
	dir := t.TempDir()
	c := testcluster.New(t, 3, testcluster.Options{
		Dir:    dir,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	l, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, c: c, ctx: ctx, dir: dir, logs: logs, f: (l + 1) % 3, g: (l + 2) % 3}
}

// keep records a raw secret for the scan.
func (fx *fixture) keep(s string) string {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.secrets = append(fx.secrets, s)
	return s
}

// user is an account and one of its API keys.
type user struct{ id, key, email string }

func (fx *fixture) account(t *testing.T, email, plan string) user {
	t.Helper()
	resp, err := fx.c.Do(fx.ctx, fx.f, "POST", "/admin/accounts", map[string]string{"email": email, "plan": plan})
	if err != nil || resp.Status != 201 {
		t.Fatalf("create account: %v %v", resp, err)
	}
	id := resp.JSON()["id"].(string)
	resp, err = fx.c.Do(fx.ctx, fx.g, "POST", "/admin/accounts/"+id+"/api-keys", map[string]any{"name": "k"})
	if err != nil || resp.Status != 201 {
		t.Fatalf("create key: %v %v", resp, err)
	}
	return user{id: id, key: resp.JSON()["key"].(string), email: email}
}

// operator is the admin token as a user: the seed's master admin.
func (fx *fixture) operator() user { return user{id: "operator", key: "op:" + fx.c.AdminToken()} }

// do sends a request to node i as u (none when u.key is empty); body is
// JSON unless it is a string or []byte.
func (fx *fixture) do(t *testing.T, i int, u user, method, path string, body any) *testcluster.Response {
	t.Helper()
	resp, err := send(fx.ctx, fx.c.URL(i), method, path, u.key, nil, body)
	if err != nil {
		t.Fatalf("%s %s on node %d: %v", method, path, i, err)
	}
	return resp
}

// want fails unless resp has status, and returns its JSON.
func want(t *testing.T, resp *testcluster.Response, status int, what string) map[string]any {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("%s: %s, want %d", what, resp, status)
	}
	if len(resp.Body) == 0 {
		return nil
	}
	return resp.JSON()
}

var client = &http.Client{Timeout: 30 * time.Second}

// send makes one request: key "op:<token>" is sent as the operator's
// bearer token, any other as X-Api-Key.
func send(ctx context.Context, base, method, path, key string, header http.Header, body any) (*testcluster.Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if tok, ok := strings.CutPrefix(key, "op:"); ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &testcluster.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
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
