package peer_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/netfault"
	"github.com/rendercache/rendercache/internal/peer"
)

var (
	keyOne = []byte("cluster-key-one-0123456789abcdef")
	keyTwo = []byte("cluster-key-two-0123456789abcdef")
)

// protected serves h behind Require(key) and counts the requests that got
// through.
func protected(t *testing.T, key []byte) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var reached atomic.Int64
	srv := httptest.NewServer(peer.Require(key, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		io.WriteString(w, "ok")
	})))
	t.Cleanup(srv.Close)
	return srv, &reached
}

func TestRequireRejectsMissingOrWrongToken(t *testing.T) {
	srv, reached := protected(t, keyOne)
	tests := []struct {
		name   string
		header string // "" = header absent
	}{
		{"missing token", ""},
		{"garbage token", "not-a-token"},
		{"token of another key", peer.Token(keyTwo)},
		{"raw cluster key", string(keyOne)},
		{"hex of the cluster key", hex.EncodeToString(keyOne)},
		{"right token with a suffix", peer.Token(keyOne) + "0"},
		{"right token truncated", peer.Token(keyOne)[:63]},
		{"right token upper-cased", strings.ToUpper(peer.Token(keyOne))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/internal/v1/raft/apply", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set(peer.Header, tt.header)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type = %q, want JSON", ct)
			}
			var body struct {
				Error struct{ Kind, Message string }
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if body.Error.Kind != "unauthorized" || body.Error.Message == "" {
				t.Fatalf("body = %+v, want the wire format's unauthorized error", body)
			}
		})
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("handler reached %d times by unauthenticated requests", n)
	}
}

func TestRequireAcceptsNewClient(t *testing.T) {
	srv, reached := protected(t, keyOne)
	client := peer.NewClient(keyOne, "n1", nil, 10*time.Second)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, err := http.NewRequest(method, srv.URL+"/internal/v1/raft/read-index", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "ok" {
			t.Fatalf("%s: %d %q, want 200 ok", method, resp.StatusCode, b)
		}
		// The caller's request is not modified by the client.
		if req.Header.Get(peer.Header) != "" {
			t.Fatalf("%s: NewClient set the token on the caller's request", method)
		}
	}
	if n := reached.Load(); n != 2 {
		t.Fatalf("handler reached %d times, want 2", n)
	}

	// A client of another cluster is refused.
	other := peer.NewClient(keyTwo, "n1", nil, 10*time.Second)
	resp, err := other.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("client with another key: status %d, want 401", resp.StatusCode)
	}
}

func TestToken(t *testing.T) {
	one, two := peer.Token(keyOne), peer.Token(keyTwo)
	if one == two {
		t.Fatal("different keys give the same token")
	}
	if peer.Token(append([]byte(nil), keyOne...)) != one {
		t.Fatal("the same key gives different tokens")
	}
	for _, tc := range []struct {
		key   []byte
		token string
	}{{keyOne, one}, {keyTwo, two}} {
		if _, err := hex.DecodeString(tc.token); err != nil || tc.token == "" {
			t.Fatalf("token %q is not non-empty hex", tc.token)
		}
		for _, leak := range []string{string(tc.key), hex.EncodeToString(tc.key), string(tc.key[:16])} {
			if strings.Contains(tc.token, leak) {
				t.Fatalf("token %q contains key material %q", tc.token, leak)
			}
		}
	}
}

func TestNewClientHonoursPartition(t *testing.T) {
	srv, reached := protected(t, keyOne)
	faults := netfault.New()
	faults.Register("n2", srv.Listener.Addr().String())
	faults.Partition([]string{"n1"}, []string{"n2"})
	client := peer.NewClient(keyOne, "n1", faults, 10*time.Second)

	_, err := client.Get(srv.URL)
	if !errors.Is(err, netfault.ErrPartitioned) {
		t.Fatalf("request across partition: err = %v, want ErrPartitioned", err)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("handler reached %d times across a partition", n)
	}
	// A client of a node on the server's side of the partition gets through.
	same := peer.NewClient(keyOne, "n2", faults, 10*time.Second)
	mustGetOK(t, same, srv.URL)

	faults.Heal()
	mustGetOK(t, client, srv.URL)
	if n := reached.Load(); n != 2 {
		t.Fatalf("handler reached %d times, want 2", n)
	}
}

func mustGetOK(t *testing.T, c *http.Client, url string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", url, resp.StatusCode)
	}
}
