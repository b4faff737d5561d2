package contract_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rendercache/rendercache/api/contract"
)

// reports collects what a Checker reports.
type reports struct {
	mu  sync.Mutex
	got []string
}

func (r *reports) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf(format, args...))
}

// The middleware reports answers and accepted requests that break the
// contract, and leaves conforming traffic and exempt requests alone.
func TestCheckerReportsMismatches(t *testing.T) {
	c, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	const own = "127.0.0.1:8080"
	tests := []struct {
		name    string
		method  string
		host    string
		path    string
		headers map[string]string
		body    string
		status  int
		answer  string
		allow   string
		want    string // in the report; "" for none
	}{
		{name: "conforming answer", method: "GET", path: "/api/cache/stats", headers: map[string]string{"X-Api-Key": "k"},
			status: 200, answer: `{"totalKeys":47,"domainCount":3}`},
		{name: "field of the wrong type", method: "GET", path: "/api/cache/stats", headers: map[string]string{"X-Api-Key": "k"},
			status: 200, answer: `{"totalKeys":"47","domainCount":3}`, want: "does not match the contract"},
		{name: "undocumented field", method: "GET", path: "/api/cache/stats", headers: map[string]string{"X-Api-Key": "k"},
			status: 200, answer: `{"totalKeys":47,"domainCount":3,"extra":1}`, want: "does not match the contract"},
		{name: "undocumented status", method: "GET", path: "/api/cache/stats", headers: map[string]string{"X-Api-Key": "k"},
			status: 409, answer: `{"error":"x"}`, want: "status is not supported"},
		{name: "error with extra fields", method: "POST", path: "/api/domains", headers: map[string]string{"X-Api-Key": "k"}, body: `{"domain":"a.com","origin":"https://o.com"}`,
			status: 403, answer: `{"error":"Site limit reached for your subscription plan","current":1,"allowed":1}`},
		{name: "error of the wrong shape", method: "POST", path: "/api/domains", headers: map[string]string{"X-Api-Key": "k"}, body: `{"domain":"a.com","origin":"https://o.com"}`,
			status: 403, answer: `{"message":"no"}`, want: "does not match the contract"},
		{name: "invalid request refused", method: "POST", path: "/api/cache/purge", headers: map[string]string{"X-Api-Key": "k"}, body: `{"domian":"a.com"}`,
			status: 400, answer: `{"error":"unknown field \"domian\""}`},
		{name: "invalid request accepted", method: "POST", path: "/api/cache/purge", headers: map[string]string{"X-Api-Key": "k"}, body: `{"domian":"a.com"}`,
			status: 200, answer: `{"message":"Cache purged","keysDeleted":0}`, want: "the contract refuses this request"},
		{name: "no credentials but 200", method: "GET", path: "/api/keys",
			status: 200, answer: `{"keys":[]}`, want: "the contract refuses this request"},
		{name: "no credentials and 401", method: "GET", path: "/api/keys",
			status: 401, answer: `{"error":"API key required"}`},
		{name: "body without Content-Type is JSON", method: "POST", path: "/api/keys", headers: map[string]string{"X-Api-Key": "k", "Content-Type": ""}, body: `{"name":"ci"}`,
			status: 201, answer: `{"id":"1","name":"ci","key":"rk_live_0123456789abcdef0123456789abcdef","roles":[],"createdAt":"2025-01-01T00:00:00Z","expiresAt":null}`},
		{name: "method not allowed", method: "PUT", path: "/api/keys", status: 405, allow: "GET, POST", answer: `{"error":"method PUT not allowed"}`},
		{name: "method not allowed without Allow", method: "PUT", path: "/api/keys", status: 404, answer: `{"error":"not found"}`, want: "want 405"},
		{name: "serve path host is exempt", method: "GET", host: "shop.example", path: "/api/keys", status: 200, answer: `<html>`},
		{name: "unknown path is exempt", method: "GET", path: "/nope", status: 404, answer: `{"error":"not found"}`},
		{name: "a page of any type", method: "GET", path: "/render?url=https://a.com/", headers: map[string]string{"X-Prerender-Token": "k", "Content-Type": "text/html"},
			status: 200, answer: `<html></html>`},
		{name: "the document as YAML", method: "GET", path: "/openapi.yaml", headers: map[string]string{"Content-Type": "application/yaml"}, status: 200, answer: "openapi: 3.0.3\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := &reports{}
			h := c.Wrap(own, rep.Errorf)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ct := "application/json"
				if v, ok := tc.headers["Content-Type"]; ok && r.Method == "GET" {
					ct = v
				}
				w.Header().Set("Content-Type", ct)
				if tc.allow != "" {
					w.Header().Set("Allow", tc.allow)
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.answer))
			}))
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req.Host = own
			if tc.host != "" {
				req.Host = tc.host
			}
			for k, v := range tc.headers {
				if k == "Content-Type" && tc.method == "GET" {
					continue
				}
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			if _, ok := tc.headers["Content-Type"]; !ok && tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			switch {
			case tc.want == "" && len(rep.got) > 0:
				t.Fatalf("reported %q", rep.got)
			case tc.want != "" && (len(rep.got) != 1 || !strings.Contains(rep.got[0], tc.want)):
				t.Fatalf("reported %q, want one report with %q", rep.got, tc.want)
			}
		})
	}
}
