package cache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
)

// node is one cache node of a test: its group, the fills it ran and the
// hints they carried.
type node struct {
	name  string
	group *Group
	srv   *httptest.Server
	fills atomic.Int64

	mu    sync.Mutex
	hints []string
}

// newNode starts a group named "render" whose fill answers fill(key).
func newNode(t *testing.T, name string, fill Fill, timeout time.Duration) *node {
	t.Helper()
	n := &node{name: name}
	n.group = New(Config{
		Name: "render", Bytes: 1 << 20, FillTimeout: timeout, Ring: NewRing(name), Client: &http.Client{Timeout: 5 * time.Second},
		Fill: func(ctx context.Context, key string) ([]byte, error) {
			n.fills.Add(1)
			n.mu.Lock()
			n.hints = append(n.hints, Hint(ctx))
			n.mu.Unlock()
			return fill(ctx, key)
		},
	})
	n.srv = httptest.NewServer(Handler(n.group))
	t.Cleanup(func() {
		n.srv.Close()
		n.group.Close()
	})
	return n
}

func (n *node) addr() string { return strings.TrimPrefix(n.srv.URL, "http://") }

func valueOf(ctx context.Context, key string) ([]byte, error) { return []byte("v:" + key), nil }

// keyOwnedBy returns a fresh key that r gives to owner.
func keyOwnedBy(t *testing.T, r *Ring, owner string) string {
	t.Helper()
	for i := range 1000 {
		k := fmt.Sprintf("%s-key-%d-%d", t.Name(), i, time.Now().UnixNano())
		if o, _ := r.Owner(k); o == owner {
			return k
		}
	}
	t.Fatalf("no key owned by %s", owner)
	return ""
}

// Concurrent misses of one key run one fill; later reads are hits.
func TestGetFillsOnce(t *testing.T) {
	release := make(chan struct{})
	n := newNode(t, "solo", func(ctx context.Context, key string) ([]byte, error) {
		<-release
		return valueOf(ctx, key)
	}, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := n.group.Get(context.Background(), "k")
			if err == nil && string(v) != "v:k" {
				err = fmt.Errorf("value %q", v)
			}
			errs <- err
		}()
	}
	// Let the callers pile up on the one fill before releasing it.
	deadline := time.Now().Add(5 * time.Second)
	for n.fills.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.group.Get(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	if got := n.fills.Load(); got != 1 {
		t.Fatalf("%d fills for one key", got)
	}
}

// A failed fill is not cached: the next read fills again.
func TestFailedFillIsNotCached(t *testing.T) {
	var calls atomic.Int64
	n := newNode(t, "solo", func(ctx context.Context, key string) ([]byte, error) {
		if calls.Add(1) == 1 {
			return nil, errkind.New(errkind.Unavailable, "render failed")
		}
		return valueOf(ctx, key)
	}, 0)
	if _, err := n.group.Get(context.Background(), "k"); errkind.KindOf(err) != errkind.Unavailable {
		t.Fatalf("first read: %v", err)
	}
	if v, err := n.group.Get(context.Background(), "k"); err != nil || string(v) != "v:k" {
		t.Fatalf("second read: %q, %v", v, err)
	}
}

// A caller that gives up does not cancel the fill it started: the fill
// finishes on its own deadline and its value serves the next caller.
func TestImpatientCallerDoesNotCancelTheFill(t *testing.T) {
	release := make(chan struct{})
	fillErr := make(chan error, 1)
	n := newNode(t, "solo", func(ctx context.Context, key string) ([]byte, error) {
		<-release
		fillErr <- ctx.Err()
		return valueOf(ctx, key)
	}, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := n.group.Get(ctx, "k")
		done <- err
	}()
	for n.fills.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	close(release)
	if err := <-fillErr; err != nil {
		t.Fatalf("the fill's context ended with its caller: %v", err)
	}
	if v, err := n.group.Get(context.Background(), "k"); err != nil || string(v) != "v:k" || n.fills.Load() != 1 {
		t.Fatalf("after the detached fill: %q, %v, %d fills", v, err, n.fills.Load())
	}
}

// FillTimeout bounds a fill; Close refuses further reads.
func TestFillTimeoutAndClose(t *testing.T) {
	n := newNode(t, "solo", func(ctx context.Context, key string) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}, 50*time.Millisecond)
	start := time.Now()
	if _, err := n.group.Get(context.Background(), "slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow fill: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("a 50ms fill timeout took %s", took)
	}
	n.group.Close()
	if _, err := n.group.Get(context.Background(), "k"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// pair is two nodes whose rings agree.
func pair(t *testing.T, fill1, fill2 Fill) (*node, *node) {
	t.Helper()
	n1, n2 := newNode(t, "n1", fill1, 0), newNode(t, "n2", fill2, 0)
	members := map[string]string{"n1": n1.addr(), "n2": n2.addr()}
	n1.group.cfg.Ring.Set(members)
	n2.group.cfg.Ring.Set(members)
	return n1, n2
}

// A miss is filled on the key's owner, with the caller's hint; the asking
// node does not fill.
func TestOwnerFills(t *testing.T) {
	n1, n2 := pair(t, valueOf, valueOf)
	key := keyOwnedBy(t, n1.group.cfg.Ring, "n2")
	v, err := n1.group.Get(WithHint(context.Background(), "background"), key)
	if err != nil || string(v) != "v:"+key {
		t.Fatalf("get: %q, %v", v, err)
	}
	if n1.fills.Load() != 0 || n2.fills.Load() != 1 {
		t.Fatalf("fills: n1 %d, n2 %d; want 0, 1", n1.fills.Load(), n2.fills.Load())
	}
	n2.mu.Lock()
	hints := n2.hints
	n2.mu.Unlock()
	if len(hints) != 1 || hints[0] != "background" {
		t.Fatalf("hints at the owner: %q", hints)
	}
}

// An owner whose fill fails answers with the error, kind and message
// kept, and the asking node does not render the page a second time.
func TestOwnerFillErrorIsNotRetriedLocally(t *testing.T) {
	n1, n2 := pair(t, valueOf, func(context.Context, string) ([]byte, error) {
		return nil, &errkind.Error{Kind: errkind.Unavailable, Message: "origin answered 502", RetryAfter: 10}
	})
	key := keyOwnedBy(t, n1.group.cfg.Ring, "n2")
	_, err := n1.group.Get(context.Background(), key)
	e := errkind.Of(err)
	if e == nil || e.Kind != errkind.Unavailable || e.Message != "origin answered 502" {
		t.Fatalf("error from the owner: %#v", err)
	}
	if n1.fills.Load() != 0 || n2.fills.Load() != 1 {
		t.Fatalf("fills: n1 %d, n2 %d; want 0, 1", n1.fills.Load(), n2.fills.Load())
	}
}

// An owner that cannot be reached makes the asking node fill itself.
func TestUnreachableOwnerFillsLocally(t *testing.T) {
	n1 := newNode(t, "n1", valueOf, 0)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadAddr := strings.TrimPrefix(dead.URL, "http://")
	dead.Close()
	n1.group.cfg.Ring.Set(map[string]string{"n1": n1.addr(), "gone": deadAddr})
	key := keyOwnedBy(t, n1.group.cfg.Ring, "gone")
	if v, err := n1.group.Get(context.Background(), key); err != nil || string(v) != "v:"+key || n1.fills.Load() != 1 {
		t.Fatalf("get: %q, %v, %d fills", v, err, n1.fills.Load())
	}
}

// While views differ, a node asked for a key it does not think it owns
// fills it instead of forwarding again, so a request never bounces.
func TestDifferingViewsDoNotBounce(t *testing.T) {
	n1, n2 := newNode(t, "n1", valueOf, 0), newNode(t, "n2", valueOf, 0)
	n1.group.cfg.Ring.Set(map[string]string{"n1": n1.addr(), "n2": n2.addr()})
	// n2 has not seen n1 yet, and believes a third node owns the key.
	n2.group.cfg.Ring.Set(map[string]string{"n2": n2.addr(), "n3": n1.addr()})
	var key string
	for i := 0; key == ""; i++ {
		k := fmt.Sprint("views-", i)
		o1, _ := n1.group.cfg.Ring.Owner(k)
		o2, _ := n2.group.cfg.Ring.Owner(k)
		if o1 == "n2" && o2 == "n3" {
			key = k
		}
	}
	if v, err := n1.group.Get(context.Background(), key); err != nil || string(v) != "v:"+key {
		t.Fatalf("get: %q, %v", v, err)
	}
	if n1.fills.Load() != 0 || n2.fills.Load() != 1 {
		t.Fatalf("fills: n1 %d, n2 %d; want 0, 1 (no forwarding onwards)", n1.fills.Load(), n2.fills.Load())
	}
}

func TestHandlerRefusesBadRequests(t *testing.T) {
	n := newNode(t, "solo", valueOf, 0)
	for path, want := range map[string]int{
		PathPrefix + "render":           http.StatusBadRequest, // no key
		PathPrefix + "other?key=k":      http.StatusNotFound,
		PathPrefix + "render?key=hello": http.StatusOK,
	} {
		resp, err := http.Get(n.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
