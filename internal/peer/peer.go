package peer

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"time"

	"github.com/rendercache/rendercache/internal/netfault"
)

// Header carries the token derived from the cluster key on every internal
// request.
const Header = "X-Rendercache-Peer"

// Token derives the bearer token that peers present. It is an HMAC of a fixed
// label, so the gossip encryption key itself never travels over HTTP.
func Token(clusterKey []byte) string {
	m := hmac.New(sha256.New, clusterKey)
	m.Write([]byte("rendercache internal rpc v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// Require wraps h so that only requests carrying the cluster's peer token
// reach it; others get 401 with an Unauthorized error in the wire format
// (Refuse). The comparison is constant time. Safe for concurrent use.
func Require(clusterKey []byte, h http.Handler) http.Handler {
	want := []byte(Token(clusterKey))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get(Header))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			Refuse(w, http.StatusUnauthorized, errUnauthenticated)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// NewClient returns an HTTP client for calls from node self to other nodes'
// internal listeners. It adds the peer token, honours injected partitions
// (faults may be nil) and bounds every call with timeout so that a call
// chain A→B→A cannot hang while membership views differ.
func NewClient(clusterKey []byte, self string, faults *netfault.Injector, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return faults.DialContext(ctx, dialer, self, network, addr)
		},
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: &authTransport{token: Token(clusterKey), next: tr},
		Timeout:   timeout,
	}
}

type authTransport struct {
	token string
	next  http.RoundTripper
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// pooled connections, so a stopping node leaves no idle sockets behind.
func (a *authTransport) CloseIdleConnections() {
	if c, ok := a.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (a *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(Header, a.token)
	return a.next.RoundTrip(r)
}
