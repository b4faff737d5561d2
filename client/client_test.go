package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/client"
)

// deadEndpoint returns the URL of a port nobody listens on.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// node is a test server that counts requests and answers with answer.
type node struct {
	*httptest.Server
	hits atomic.Int32
}

func newNode(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *node {
	n := &node{}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.hits.Add(1)
		io.Copy(io.Discard, r.Body)
		answer(w, r)
	}))
	t.Cleanup(n.Close)
	return n
}

func jsonAnswer(status int, body string, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// Errors carry the status, the message and the seed's extra fields.
func TestErrorExposesStatusAndBody(t *testing.T) {
	n := newNode(t, jsonAnswer(403, `{"error":"Site limit reached for your subscription plan","current":3,"allowed":3}`))
	c, err := client.New(client.Options{Endpoints: []string{n.URL}, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateDomain(context.Background(), "a.com", client.DomainSettings{})
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("err %v is no *client.Error", err)
	}
	if e.Status != 403 || e.Message != "Site limit reached for your subscription plan" || e.Fields["current"] != 3.0 || e.Fields["allowed"] != 3.0 {
		t.Fatalf("error %+v", e)
	}
	if client.StatusOf(err) != 403 {
		t.Fatalf("StatusOf = %d", client.StatusOf(err))
	}
}

// What is retried, and where: a request that never left goes to the next
// endpoint whatever its method; a GET is retried after a 503 with
// Retry-After; a POST that reached a node is never sent again.
func TestRetriesOnlyWhatIsSafe(t *testing.T) {
	ctx := context.Background()
	t.Run("dead endpoint: GET moves on", func(t *testing.T) {
		ok := newNode(t, jsonAnswer(200, `{"totalKeys":1,"domainCount":1}`))
		c, _ := client.New(client.Options{Endpoints: []string{deadEndpoint(t), ok.URL}})
		if s, err := c.Stats(ctx); err != nil || s.TotalKeys != 1 {
			t.Fatalf("stats %+v, %v", s, err)
		}
	})
	t.Run("dead endpoint: POST moves on, it never left", func(t *testing.T) {
		ok := newNode(t, jsonAnswer(201, `{"id":"a1","email":"a@b.c","plan":"free","createdAt":"2025-01-01T00:00:00Z"}`))
		c, _ := client.New(client.Options{Endpoints: []string{deadEndpoint(t), ok.URL}})
		if a, err := c.CreateAccount(ctx, "a@b.c", "free"); err != nil || a.ID != "a1" {
			t.Fatalf("account %+v, %v", a, err)
		}
	})
	t.Run("503 with Retry-After: GET retried on the next node", func(t *testing.T) {
		busy := newNode(t, jsonAnswer(503, `{"error":"no leader"}`, "Retry-After", "1"))
		ok := newNode(t, jsonAnswer(200, `{"status":"ready"}`))
		c, _ := client.New(client.Options{Endpoints: []string{busy.URL, ok.URL}, MaxRetryWait: 10 * time.Millisecond})
		if _, err := c.Readyz(ctx); err != nil {
			t.Fatal(err)
		}
		if busy.hits.Load() != 1 || ok.hits.Load() != 1 {
			t.Fatalf("hits %d, %d", busy.hits.Load(), ok.hits.Load())
		}
	})
	t.Run("503: POST not retried, it may have been applied", func(t *testing.T) {
		busy := newNode(t, jsonAnswer(503, `{"error":"the cluster did not answer in time, retry later"}`, "Retry-After", "1"))
		ok := newNode(t, jsonAnswer(200, `{"message":"Cache purged","keysDeleted":0}`))
		c, _ := client.New(client.Options{Endpoints: []string{busy.URL, ok.URL}, MaxRetryWait: 10 * time.Millisecond})
		_, err := c.Purge(ctx, "a.com", "")
		if client.StatusOf(err) != 503 || ok.hits.Load() != 0 {
			t.Fatalf("err %v, second node hit %d times", err, ok.hits.Load())
		}
	})
	t.Run("connection lost mid-request: POST not retried", func(t *testing.T) {
		cut := newNode(t, func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
		})
		ok := newNode(t, jsonAnswer(200, `{}`))
		c, _ := client.New(client.Options{Endpoints: []string{cut.URL, ok.URL}})
		if _, err := c.RefreshAll(ctx, nil, client.RefreshOptions{}); err == nil || ok.hits.Load() != 0 {
			t.Fatalf("err %v, second node hit %d times", err, ok.hits.Load())
		}
	})
	t.Run("4xx is final", func(t *testing.T) {
		bad := newNode(t, jsonAnswer(401, `{"error":"Invalid API key"}`))
		ok := newNode(t, jsonAnswer(200, `{"keys":[]}`))
		c, _ := client.New(client.Options{Endpoints: []string{bad.URL, ok.URL}})
		if _, err := c.ListKeys(ctx); client.StatusOf(err) != 401 || ok.hits.Load() != 0 {
			t.Fatalf("err %v, second node hit %d times", err, ok.hits.Load())
		}
	})
}

// A domain update sends the fields named, and nulls for those reset.
func TestDomainSettingsJSON(t *testing.T) {
	ttl, timeout := 3600, 5000
	b, err := client.DomainSettings{CacheTTL: &ttl, TimeoutMs: &timeout, Reset: []string{"monthlyRenderLimit", "render.blockTrackers"}}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cacheTtl":3600,"monthlyRenderLimit":null,"render":{"blockTrackers":null,"timeoutMs":5000}}`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
}

func errorAs(err error, target **client.Error) bool { return errors.As(err, target) }
