package ratelimit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rendercache/rendercache/cache"
)

func TestFixedWindow(t *testing.T) {
	l := New(cache.NewRing("solo"), http.DefaultClient, nil)
	now := time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC)
	l.now = func() time.Time { return now }
	rule := Rule{Limit: 3, Window: time.Minute}
	for i := range 3 {
		if d := l.Allow(context.Background(), "k", rule); !d.Allowed {
			t.Fatalf("call %d refused", i+1)
		}
	}
	d := l.Allow(context.Background(), "k", rule)
	if d.Allowed || d.RetryAfter != 30*time.Second {
		t.Fatalf("4th call: %+v, want refused until the window ends in 30s", d)
	}
	if d := l.Allow(context.Background(), "other", rule); !d.Allowed {
		t.Fatal("buckets are not separate")
	}
	now = now.Add(30 * time.Second) // the next window
	if d := l.Allow(context.Background(), "k", rule); !d.Allowed {
		t.Fatal("the next window is still limited")
	}
	if len(l.buckets) != 1 {
		t.Fatalf("%d buckets kept, want only the current window's", len(l.buckets))
	}
}

func TestOwnerDecidesForOthers(t *testing.T) {
	owner := New(cache.NewRing("a"), http.DefaultClient, nil)
	srv := httptest.NewServer(owner.Handler())
	defer srv.Close()
	// "b" sees a ring where "a" owns every key it will ask about.
	ring := cache.NewRing("b")
	ring.Set(map[string]string{"a": srv.Listener.Addr().String()})
	asker := New(ring, http.DefaultClient, nil)
	rule := Rule{Limit: 2, Window: time.Hour}
	var key string
	for i := 0; ; i++ {
		key = "bucket-" + string(rune('a'+i))
		if o, _ := ring.Owner(key); o == "a" {
			break
		}
	}
	asker.Allow(context.Background(), key, rule)
	owner.Allow(context.Background(), key, rule)
	if d := asker.Allow(context.Background(), key, rule); d.Allowed {
		t.Fatal("the asker did not use the owner's bucket")
	}
	srv.Close()
	// Without the owner, the asker decides alone rather than failing.
	if d := asker.Allow(context.Background(), key, rule); !d.Allowed {
		t.Fatal("an unreachable owner refused the request")
	}
}

// A refunded request gives its place back in the window that counted it,
// on the owner too when another node asks; a refund after that window
// ended, or for a refused request, changes nothing.
func TestRefund(t *testing.T) {
	owner := New(cache.NewRing("a"), http.DefaultClient, nil)
	now := time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC)
	owner.now = func() time.Time { return now }
	srv := httptest.NewServer(owner.Handler())
	defer srv.Close()
	ring := cache.NewRing("b")
	ring.Set(map[string]string{"a": srv.Listener.Addr().String()})
	asker := New(ring, http.DefaultClient, nil)
	if o, _ := ring.Owner("k"); o != "a" {
		t.Fatalf("bucket k is owned by %q; the test needs the remote owner", o)
	}
	ctx := context.Background()
	rule := Rule{Limit: 2, Window: time.Minute}

	first := asker.Allow(ctx, "k", rule)
	asker.Allow(ctx, "k", rule)
	refused := asker.Allow(ctx, "k", rule)
	if !first.Allowed || refused.Allowed {
		t.Fatalf("first %+v, third %+v; want allowed, then refused", first, refused)
	}
	asker.Refund(ctx, "k", rule, refused)
	if d := asker.Allow(ctx, "k", rule); d.Allowed {
		t.Fatal("refunding a refused request freed a place")
	}
	asker.Refund(ctx, "k", rule, first)
	if d := asker.Allow(ctx, "k", rule); !d.Allowed {
		t.Fatal("a refunded request's place was not given back")
	}
	now = now.Add(time.Minute) // the next window
	owner.Allow(ctx, "k", rule)
	owner.Allow(ctx, "k", rule)
	asker.Refund(ctx, "k", rule, first) // counted in the last window
	if d := asker.Allow(ctx, "k", rule); d.Allowed {
		t.Fatal("a refund for an ended window freed a place in the current one")
	}
}
