package consensus

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/peer"
)

// A forward tells onLeader what it may retry: a leader that was never
// reached or is not the leader any more, but never a write whose answer was
// lost; the leader's own errors come back with their kind and fields.
func TestForwardErrors(t *testing.T) {
	key := []byte("cluster-key-0123456789abcdef0123")
	forbidden := errkind.New(errkind.Forbidden, "limit").With(map[string]any{"current": 3, "allowed": 3})
	answers := func(err error) http.Handler {
		return peer.Handle(func(ctx context.Context, _ any) (result, error) { return result{}, err })
	}
	hangsUp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	})
	stalls := peer.Handle(func(ctx context.Context, _ any) (result, error) {
		<-ctx.Done()
		return result{}, ctx.Err()
	})
	closed := httptest.NewServer(hangsUp)
	closed.Close()

	tests := []struct {
		name    string
		handler http.Handler // nil: nobody listens
		path    string
		want    error
	}{
		{"leader's error keeps its fields", answers(forbidden), pathApply, forbidden},
		{"not the leader", answers(ErrNotLeader), pathApply, ErrNotLeader},
		{"connection refused: apply", nil, pathApply, errUnreachable},
		{"connection refused: read index", nil, pathReadIndex, errUnreachable},
		{"listener refuses the key", peer.Require([]byte("another-cluster-key-0123456789ab"), answers(nil)), pathApply, errUnreachable},
		{"answer lost: apply", hangsUp, pathApply, ErrOutcomeUnknown},
		{"answer lost: read index", hangsUp, pathReadIndex, errUnreachable},
		{"deadline", stalls, pathReadIndex, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := strings.TrimPrefix(closed.URL, "http://")
			if tt.handler != nil {
				srv := httptest.NewServer(peer.Require(key, tt.handler))
				defer srv.Close()
				addr = strings.TrimPrefix(srv.URL, "http://")
			}
			n := &Raft{rpc: peer.NewClient(key, "n1", nil, 5*time.Second)}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := n.call(ctx, addr, tt.path, struct{}{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == forbidden {
				if e := errkind.Of(err); e == nil || e.Fields["allowed"] != float64(3) {
					t.Fatalf("fields lost: %#v", e)
				}
			}
		})
	}
}
