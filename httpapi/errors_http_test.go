package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// TestProtocolErrorsAreJSON checks, on a real node, that a wrong method is
// a 405 with Allow and that the errors net/http writes before any handler
// runs carry the API's JSON body.
func TestProtocolErrorsAreJSON(t *testing.T) {
	c := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	admin := "Bearer " + c.AdminToken()

	t.Run("wrong method", func(t *testing.T) {
		for _, tc := range []struct{ name, method, path, auth, allow string }{
			{"PUT on a collection", "PUT", "/admin/accounts", admin, "GET, OPTIONS, POST"},
			{"before authentication", "PUT", "/api/domains", "", "GET, OPTIONS, POST"},
			{"POST on an item", "POST", "/api/domains/shop.example.com", "", "DELETE, GET, OPTIONS, PATCH"},
			{"DELETE on health", "DELETE", "/healthz", "", "GET, OPTIONS"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, err := testcluster.Do(ctx, c.URL(0), tc.method, tc.path, tc.auth, nil)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Status != http.StatusMethodNotAllowed {
					t.Fatalf("status = %s, want 405", resp)
				}
				if got := resp.Header.Get("Allow"); got != tc.allow {
					t.Errorf("Allow = %q, want %q", got, tc.allow)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type = %q, want JSON", ct)
				}
				if msg, _ := resp.JSON()["error"].(string); !strings.Contains(msg, tc.method) || !strings.Contains(msg, tc.allow) {
					t.Errorf("error %q does not name the method and the allowed ones", msg)
				}
			})
		}
	})

	addr := strings.TrimPrefix(c.URL(0), "http://")
	t.Run("before the handler", func(t *testing.T) {
		for _, tc := range []struct {
			name, req string
			code      int
			want      string
		}{
			{"bad escape", "GET /api/domains/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request"},
			{"malformed Host", "GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "malformed Host header"},
			{"oversized header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1100<<10) + "\r\n\r\n", 431, "too large"},
			{"unsupported HTTP version", "GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n", 505, "unsupported protocol version"},
			{"malformed HTTP version", "GET /healthz HTTP/1\r\nHost: x\r\n\r\n", 400, "malformed request"},
			{"missing Host", "GET /healthz HTTP/1.1\r\n\r\n", 400, "missing required Host header"},
			{"unknown Transfer-Encoding", "POST /api/domains HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "Transfer-Encoding"},
			{"unknown Expect", "POST /api/domains HTTP/1.1\r\nHost: x\r\nExpect: later\r\nContent-Length: 2\r\n\r\n{}", 417, "Expect"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := rawRequest(t, addr, tc.req)
				if resp.StatusCode != tc.code || resp.Status != http.StatusText(tc.code) && !strings.HasSuffix(resp.Status, " "+http.StatusText(tc.code)) {
					t.Errorf("status %q, want %d %s", resp.Status, tc.code, http.StatusText(tc.code))
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type = %q, want JSON; body %q", ct, body)
				}
				if resp.ContentLength != int64(len(body)) {
					t.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
				}
				var e map[string]string
				if err := json.Unmarshal(body, &e); err != nil || e["error"] == "" {
					t.Fatalf("body %q is not {\"error\": ...}: %v", body, err)
				}
				if !strings.Contains(e["error"], tc.want) {
					t.Errorf("error %q does not mention %q", e["error"], tc.want)
				}
			})
		}
	})
}

// rawRequest writes req on a new TCP connection to addr and reads one
// response.
func rawRequest(t *testing.T, addr, req string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	// The server may answer and close before it read the whole request.
	go io.WriteString(conn, req)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, body
}
