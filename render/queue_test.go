package render

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// queueHarness drives slots from one goroutine per caller and reports the
// order in which callers got a slot.
type queueHarness struct {
	t     *testing.T
	s     *slots
	order chan string
}

func newQueueHarness(t *testing.T, n, queue, perDomain int) *queueHarness {
	return &queueHarness{t: t, s: newSlots(n, queue, perDomain), order: make(chan string, 1000)}
}

// hold takes a slot for domain at once.
func (h *queueHarness) hold(domain string) {
	h.t.Helper()
	if err := h.s.acquire(context.Background(), Background, domain); err != nil {
		h.t.Fatal(err)
	}
}

// enqueue starts a caller named name and waits until it is in the queue.
func (h *queueHarness) enqueue(ctx context.Context, name string, p Priority, domain string) chan error {
	h.t.Helper()
	before, _ := h.s.counts()
	errc := make(chan error, 1)
	go func() {
		err := h.s.acquire(ctx, p, domain)
		errc <- err
		if err == nil {
			h.order <- name
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if q, _ := h.s.counts(); q == before+1 {
			return errc
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s never queued", name)
		}
		time.Sleep(time.Millisecond)
	}
}

// next releases a slot of domain and returns who got it.
func (h *queueHarness) next(domain string) string {
	h.s.release(domain)
	return <-h.order
}

func TestSlotsOrderAndBound(t *testing.T) {
	ctx := context.Background()
	h := newQueueHarness(t, 1, 3, 3)
	h.hold("a")
	h.enqueue(ctx, "bg1", Background, "a")
	h.enqueue(ctx, "bg2", Background, "a")
	h.enqueue(ctx, "live", Live, "a")
	if err := h.s.acquire(ctx, Live, "a"); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("acquire on a full queue: %v", err)
	}
	var got []string
	for range 3 {
		got = append(got, h.next("a"))
	}
	if got[0] != "live" || got[1] != "bg1" || got[2] != "bg2" {
		t.Fatalf("order %v, want live, bg1, bg2", got)
	}
	h.s.release("a")
	if q, a := h.s.counts(); q != 0 || a != 0 {
		t.Fatalf("queued %d active %d after all released", q, a)
	}
	if len(h.s.domains) != 0 {
		t.Fatalf("domains %v remembered with nothing waiting or running", h.s.domains)
	}
	h.s.close()
	if err := h.s.acquire(ctx, Live, "a"); !errors.Is(err, ErrClosed) {
		t.Fatalf("acquire after close: %v", err)
	}
}

// TestSlotsShareBetweenDomains checks the order in which one slot goes
// round: a burst of one domain, then a few of others, at each priority.
func TestSlotsShareBetweenDomains(t *testing.T) {
	type caller struct {
		name, domain string
		prio         Priority
	}
	burst := func(domain string, n int, p Priority) []caller {
		var cs []caller
		for i := range n {
			cs = append(cs, caller{fmt.Sprintf("%s%d", domain, i+1), domain, p})
		}
		return cs
	}
	cases := []struct {
		name    string
		holder  string // the domain holding the one slot at the start
		callers []caller
		want    []string
	}{
		{
			name: "a late domain joins the turns", holder: "a",
			callers: append(burst("a", 5, Background), burst("b", 2, Background)...),
			want:    []string{"a1", "b1", "a2", "b2", "a3", "a4", "a5"},
		},
		{
			name: "three domains take turns", holder: "a",
			callers: append(append(burst("a", 3, Background), burst("b", 2, Background)...), burst("c", 2, Background)...),
			want:    []string{"a1", "b1", "c1", "a2", "b2", "c2", "a3"},
		},
		{
			name: "the same for live misses", holder: "a",
			callers: append(burst("a", 4, Live), burst("b", 2, Live)...),
			want:    []string{"a1", "b1", "a2", "b2", "a3", "a4"},
		},
		{
			name: "live first, whatever the domain", holder: "a",
			callers: append(append(burst("a", 2, Background), burst("b", 1, Background)...), caller{"live-a", "a", Live}),
			want:    []string{"live-a", "b1", "a1", "a2"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newQueueHarness(t, 1, 100, 100)
			h.hold(c.holder)
			for _, cl := range c.callers {
				h.enqueue(context.Background(), cl.name, cl.prio, cl.domain)
			}
			last := c.holder
			var got []string
			for range c.want {
				name := h.next(last)
				got = append(got, name)
				for _, cl := range c.callers {
					if cl.name == name {
						last = cl.domain
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("order %v, want %v", got, c.want)
			}
		})
	}
}

// TestSlotsFairShareOfSeveralSlots: with two slots both held by a burst,
// a second domain gets the next free one, and never waits while the
// burst's domain holds both.
func TestSlotsFairShareOfSeveralSlots(t *testing.T) {
	h := newQueueHarness(t, 2, 100, 100)
	h.hold("a")
	h.hold("a")
	for i := range 4 {
		h.enqueue(context.Background(), fmt.Sprintf("a%d", i+1), Background, "a")
	}
	h.enqueue(context.Background(), "b1", Background, "b")
	h.enqueue(context.Background(), "b2", Background, "b")
	// a holds 2, b 0: b1 first. Then a holds 1 and b 1: the tie goes to
	// the one served least recently, a.
	if got := []string{h.next("a"), h.next("a")}; fmt.Sprint(got) != "[b1 a1]" {
		t.Fatalf("order %v, want [b1 a1]", got)
	}
	// b1 ends: b holds 0, a 2 (a1 and the first holder): b2.
	if got := h.next("b"); got != "b2" {
		t.Fatalf("next %s, want b2", got)
	}
}

func TestSlotsBounds(t *testing.T) {
	ctx := context.Background()
	t.Run("one domain's share", func(t *testing.T) {
		h := newQueueHarness(t, 1, 8, 2)
		h.hold("a")
		h.enqueue(ctx, "a1", Background, "a")
		h.enqueue(ctx, "a2", Background, "a")
		err := h.s.acquire(ctx, Background, "a")
		var full *queueFullError
		if !errors.As(err, &full) || full.reason != fullDomain || !errors.Is(err, ErrQueueFull) {
			t.Fatalf("a third background render of a: %v, want the domain's share full", err)
		}
		// The bound is per priority, and other domains still queue.
		h.enqueue(ctx, "a-live", Live, "a")
		h.enqueue(ctx, "b1", Background, "b")
		if st := h.s.stats(); st.refused[Background][fullDomain] != 1 || st.domains[Background] != 2 || st.queued[Live] != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("the last quarter is for live renders", func(t *testing.T) {
		h := newQueueHarness(t, 1, 4, 4)
		h.hold("a")
		for i := range 3 {
			h.enqueue(ctx, fmt.Sprint("bg", i), Background, fmt.Sprint("d", i))
		}
		err := h.s.acquire(ctx, Background, "other")
		var full *queueFullError
		if !errors.As(err, &full) || full.reason != fullQueue {
			t.Fatalf("a fourth background render: %v, want the queue full", err)
		}
		h.enqueue(ctx, "live", Live, "other")
		if err := h.s.acquire(ctx, Live, "more"); !errors.Is(err, ErrQueueFull) {
			t.Fatalf("a fifth render: %v, want the queue full", err)
		}
	})
	t.Run("a caller that gives up leaves no trace", func(t *testing.T) {
		h := newQueueHarness(t, 1, 8, 8)
		h.hold("a")
		cctx, cancel := context.WithCancel(ctx)
		errc := h.enqueue(cctx, "quitter", Background, "b")
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("the cancelled waiter got %v", err)
		}
		if q, _ := h.s.counts(); q != 0 || len(h.s.waiting[Background]) != 0 {
			t.Fatalf("%d queued after the waiter left", q)
		}
		if _, ok := h.s.domains["b"]; ok {
			t.Fatal("the domain of a caller that left is still remembered")
		}
		h.s.release("a")
		if q, a := h.s.counts(); q != 0 || a != 0 {
			t.Fatalf("queued %d active %d", q, a)
		}
	})
}
