package zones_test

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

// fixture is a 3-node cluster; tests make their own accounts, so that
// each has its own keys and rate-limit buckets.
type fixture struct {
	t   *testing.T
	c   *testcluster.Cluster
	ctx context.Context
	f   int // a follower
}

func newFixture(t *testing.T) *fixture {
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			lines := strings.Split(logs.String(), "\n")
			t.Logf("last node log lines:\n%s", strings.Join(lines[max(0, len(lines)-100):], "\n"))
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
	if err := c.WaitRing(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, c: c, ctx: ctx, f: (l + 1) % 3}
}

// account creates an account on plan with a live and a test key.
func (fx *fixture) account(email, plan string) (id, live, test string) {
	fx.t.Helper()
	resp, err := fx.c.Do(fx.ctx, fx.f, "POST", "/admin/accounts", map[string]string{"email": email, "plan": plan})
	if err != nil || resp.Status != 201 {
		fx.t.Fatalf("create account: %v %v", resp, err)
	}
	id = resp.JSON()["id"].(string)
	for _, mode := range []string{"live", "test"} {
		resp, err = fx.c.Do(fx.ctx, fx.f, "POST", "/admin/accounts/"+id+"/api-keys", map[string]any{"name": mode, "mode": mode})
		if err != nil || resp.Status != 201 {
			fx.t.Fatalf("create %s key: %v %v", mode, resp, err)
		}
		if mode == "live" {
			live = resp.JSON()["key"].(string)
		} else {
			test = resp.JSON()["key"].(string)
		}
	}
	return id, live, test
}

// do sends a /v1 request to node i with key in X-ResCDN-Key (none if
// empty), as the seed's examples do.
func (fx *fixture) do(i int, method, path, key string, body any) *testcluster.Response {
	fx.t.Helper()
	resp, err := send(fx.ctx, fx.c.URL(i), method, path, key, body)
	if err != nil {
		fx.t.Fatalf("%s %s on node %d: %v", method, path, i, err)
	}
	return resp
}

var client = &http.Client{Timeout: 30 * time.Second}

func send(ctx context.Context, base, method, path, key string, body any) (*testcluster.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("X-ResCDN-Key", key)
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

// want fails unless resp has status.
func (fx *fixture) want(resp *testcluster.Response, status int, what string) map[string]any {
	fx.t.Helper()
	if resp.Status != status {
		fx.t.Fatalf("%s: %s, want %d", what, resp, status)
	}
	return resp.JSON()
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
