package render_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/render"
)

// TestPriorityAndBoundedQueue fills the shared pool's two slots with
// renders held by gates, queues work behind them, and frees one slot at a
// time, so the order of completion is decided by the queue alone.
func TestPriorityAndBoundedQueue(t *testing.T) {
	g := newGates(t)
	s := slowSite(t, g)
	done := make(chan string, 8)
	start := func(ctx context.Context, name string, prio render.Priority, path string) chan error {
		errc := make(chan error, 1)
		go func() {
			_, err := pool.Render(ctx, render.Request{URL: s.URL + path, Priority: prio})
			errc <- err
			if err == nil {
				done <- name
			}
		}()
		return errc
	}
	holdA := start(context.Background(), "hold-a", render.Live, "/slow?g=a")
	holdB := start(context.Background(), "hold-b", render.Live, "/slow?g=b")
	poll(t, "both slots to be held", func() bool { return pool.Stats().Active == 2 && s.count("/api/slow") == 2 })

	// A queued caller that gives up leaves the queue at once.
	ctx, cancel := context.WithCancel(context.Background())
	quitter := start(ctx, "quitter", render.Background, "/fast")
	poll(t, "the quitter to queue", func() bool { return pool.Stats().Queued == 1 })
	cancel()
	if err := <-quitter; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled waiter got %v, want context.Canceled", err)
	}
	if q := pool.Stats().Queued; q != 0 {
		t.Fatalf("%d queued after the waiter left", q)
	}

	bg := start(context.Background(), "background", render.Background, "/fast")
	poll(t, "the background render to queue", func() bool { return pool.Stats().Queued == 1 })
	live := start(context.Background(), "live", render.Live, "/fast")
	poll(t, "the live render to queue", func() bool { return pool.Stats().Queued == 2 })

	// The queue (2) is full: the next render is refused at once.
	_, err := pool.Render(context.Background(), render.Request{URL: s.URL + "/fast", Priority: render.Live})
	if !errors.Is(err, render.ErrQueueFull) || errkind.KindOf(err) != errkind.Unavailable || errkind.Of(err).RetryAfter <= 0 {
		t.Fatalf("render on a full queue: %v", err)
	}

	// One slot frees: the live render, queued after the background one,
	// takes it, and the background one gets a slot only when the live one
	// (or hold-b, still gated) gives one back.
	g.open("a")
	seen := map[string]bool{}
	for name := range done {
		seen[name] = true
		if name == "background" {
			t.Fatal("the background render finished before the live one")
		}
		if name == "live" {
			break
		}
	}
	g.open("b")
	for _, errc := range []chan error{holdA, holdB, bg, live} {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	for len(seen) < 4 {
		seen[<-done] = true
	}
	if want := []string{"background", "hold-a", "hold-b", "live"}; !slices.Equal(slices.Sorted(maps.Keys(seen)), want) {
		t.Fatalf("completed %v, want %v", slices.Sorted(maps.Keys(seen)), want)
	}
}
