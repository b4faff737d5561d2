package peer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/netfault"
	"github.com/rendercache/rendercache/internal/peer"
)

const echoPath = "/internal/v1/test/echo"

type echoRequest struct {
	Text  string `json:"text"`
	Kind  string `json:"kind,omitempty"`  // answer with an error of this kind
	Plain bool   `json:"plain,omitempty"` // answer with an error without a kind
}

type echoAnswer struct {
	Text string `json:"text"`
}

// echoServer serves echoPath behind Require(keyOne): it echoes the text,
// or answers with the error the request names.
func echoServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var reached atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("POST "+echoPath, peer.Handle(func(ctx context.Context, req echoRequest) (echoAnswer, error) {
		reached.Add(1)
		switch {
		case req.Plain:
			return echoAnswer{}, errors.New("disk on fire")
		case req.Kind != "":
			return echoAnswer{}, fmt.Errorf("op: %w", sentinelOf(errkind.ParseKind(req.Kind)))
		}
		return echoAnswer{Text: req.Text}, nil
	}))
	srv := httptest.NewServer(peer.Require(keyOne, mux))
	t.Cleanup(srv.Close)
	return srv, &reached
}

// sentinelOf is the error a handler of the kind returns: with a retry
// hint and extra fields, so that the whole error must cross.
func sentinelOf(k errkind.Kind) *errkind.Error {
	e := &errkind.Error{Kind: k, Message: "the " + k.String() + " error", RetryAfter: int(k) + 1}
	return e.With(map[string]any{"current": "3", "allowed": true})
}

func addrOf(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

func TestCallAnswers(t *testing.T) {
	srv, reached := echoServer(t)
	client := peer.NewClient(keyOne, "n1", nil, 10*time.Second)
	var got echoAnswer
	if err := peer.Call(context.Background(), client, addrOf(srv), echoPath, echoRequest{Text: "héllo"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Text != "héllo" {
		t.Fatalf("answer %+v, want the echoed text", got)
	}
	// A nil resp reads and drops the answer.
	if err := peer.Call(context.Background(), client, addrOf(srv), echoPath, echoRequest{Text: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	if n := reached.Load(); n != 2 {
		t.Fatalf("handler reached %d times, want 2", n)
	}
}

// Every kind crosses the wire with its message, retry hint and fields, and
// matches its sentinel on the calling node.
func TestCallRoundTripsEveryKind(t *testing.T) {
	srv, _ := echoServer(t)
	client := peer.NewClient(keyOne, "n1", nil, 10*time.Second)
	for k := errkind.Internal; k <= errkind.BadMethod; k++ {
		t.Run(k.String(), func(t *testing.T) {
			want := sentinelOf(k)
			err := peer.Call(context.Background(), client, addrOf(srv), echoPath, echoRequest{Kind: k.String()}, &echoAnswer{})
			if !errors.Is(err, want) {
				t.Fatalf("err = %v, want it to match %v", err, want)
			}
			e := errkind.Of(err)
			if e == nil || e.Kind != k || e.Message != want.Message || e.RetryAfter != want.RetryAfter ||
				e.Fields["current"] != "3" || e.Fields["allowed"] != true {
				t.Fatalf("decoded %#v, want %#v", e, want)
			}
			if errors.Is(err, peer.ErrUnreachable) || errors.Is(err, peer.ErrNoAnswer) {
				t.Fatalf("the handler's answer %v reads as a failed call", err)
			}
		})
	}
	t.Run("without a kind", func(t *testing.T) {
		err := peer.Call(context.Background(), client, addrOf(srv), echoPath, echoRequest{Plain: true}, nil)
		if e := errkind.Of(err); e == nil || e.Kind != errkind.Internal || e.Message != "disk on fire" {
			t.Fatalf("err = %#v, want Internal with the handler's text", err)
		}
	})
}

// A call that fails says whether the peer may have acted on it.
func TestCallFailures(t *testing.T) {
	srv, reached := echoServer(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	faults := netfault.New()
	faults.Register("n2", addrOf(srv))
	faults.Partition([]string{"n1"}, []string{"n2"})
	stalls := httptest.NewServer(peer.Handle(func(ctx context.Context, _ struct{}) (struct{}, error) {
		<-ctx.Done()
		return struct{}{}, ctx.Err()
	}))
	defer stalls.Close()
	garbled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/error" {
			w.WriteHeader(http.StatusFailedDependency)
		}
		io.WriteString(w, "<html>not the wire format</html>")
	}))
	defer garbled.Close()

	good := peer.NewClient(keyOne, "n1", nil, 10*time.Second)
	tests := []struct {
		name    string
		client  *http.Client
		addr    string
		path    string
		timeout time.Duration // of ctx; 0: none
		want    []error
	}{
		{"no cluster key", http.DefaultClient, addrOf(srv), echoPath, 0, []error{peer.ErrUnreachable}},
		{"another cluster's key", peer.NewClient(keyTwo, "n1", nil, 10*time.Second), addrOf(srv), echoPath, 0, []error{peer.ErrUnreachable}},
		{"unknown route", good, addrOf(srv), "/internal/v1/test/nope", 0, []error{peer.ErrUnreachable}},
		{"connection refused", good, addrOf(closed), echoPath, 0, []error{peer.ErrUnreachable}},
		{"partitioned", peer.NewClient(keyOne, "n1", faults, 10*time.Second), addrOf(srv), echoPath, 0, []error{peer.ErrUnreachable, netfault.ErrPartitioned}},
		{"context deadline", good, addrOf(stalls), "/", 100 * time.Millisecond, []error{context.DeadlineExceeded}},
		{"client timeout", peer.NewClient(keyOne, "n1", nil, 100*time.Millisecond), addrOf(stalls), "/", 0, []error{peer.ErrNoAnswer}},
		{"answer not JSON", good, addrOf(garbled), "/", 0, []error{peer.ErrNoAnswer}},
		{"error not in the wire format", good, addrOf(garbled), "/error", 0, []error{peer.ErrNoAnswer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			err := peer.Call(ctx, tt.client, tt.addr, tt.path, echoRequest{Text: "x"}, &echoAnswer{})
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want %v", err, want)
				}
			}
			if errkind.Of(err) != nil {
				t.Errorf("err = %v reads as the handler's answer", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("handler reached %d times by calls that failed", n)
	}
}

// Answers are read up to the limit and no further.
func TestDoBoundsTheAnswer(t *testing.T) {
	const limit = 1024
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := limit
		if r.URL.Query().Has("over") {
			n++
		}
		if r.URL.Query().Has("error") {
			w.WriteHeader(http.StatusFailedDependency)
		}
		io.WriteString(w, strings.Repeat("v", n))
	}))
	defer srv.Close()
	tests := []struct {
		name  string
		query string
		want  error // nil: the body
	}{
		{"at the limit", "", nil},
		{"over the limit", "over", peer.ErrNoAnswer},
		{"error over the limit", "error&over", peer.ErrNoAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/?"+tt.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, err := peer.Do(srv.Client(), req, limit)
			if tt.want == nil {
				if err != nil || len(body) != limit {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(body), err, limit)
				}
				return
			}
			if !errors.Is(err, tt.want) || body != nil {
				t.Fatalf("got %d bytes, %v; want %v", len(body), err, tt.want)
			}
		})
	}
}

// Handle refuses what it cannot decode without calling the handler.
func TestHandleRefusesBadRequests(t *testing.T) {
	var reached atomic.Int64
	srv := httptest.NewServer(peer.Handle(func(ctx context.Context, req echoRequest) (echoAnswer, error) {
		reached.Add(1)
		return echoAnswer{}, nil
	}))
	defer srv.Close()
	tests := []struct {
		name string
		body io.Reader
		want errkind.Kind
	}{
		{"empty", strings.NewReader(""), errkind.Invalid},
		{"not JSON", strings.NewReader("text=x"), errkind.Invalid},
		{"wrong type", strings.NewReader(`{"text": 3}`), errkind.Invalid},
		{"trailing data", strings.NewReader(`{} {}`), errkind.Invalid},
		{"over MaxBody", io.LimitReader(zeros{}, peer.MaxBody+1), errkind.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			_, err = peer.Do(srv.Client(), req, peer.MaxBody)
			if e := errkind.Of(err); e == nil || e.Kind != tt.want {
				t.Fatalf("err = %v, want kind %v", err, tt.want)
			}
		})
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("handler reached %d times by bad requests", n)
	}
}

// zeros reads as an endless run of '0'.
type zeros struct{}

var zeroBlock = []byte(strings.Repeat("0", 32<<10))

func (zeros) Read(p []byte) (int, error) {
	for n := 0; n < len(p); {
		n += copy(p[n:], zeroBlock)
	}
	return len(p), nil
}
