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
