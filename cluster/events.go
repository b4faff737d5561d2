package cluster

import (
	"slices"
	"strconv"
	"sync"
)

// subscriberBuffer is each subscription's channel capacity.
const subscriberBuffer = 256

// EventType says what happened to a member.
type EventType int

// Event types.
const (
	EventJoin   EventType = iota // became alive: new, or back after dead/left
	EventUpdate                  // metadata changed, or a coalesced catch-up
	EventLeave                   // left gracefully
	EventFail                    // declared dead
)

// String returns "join", "update", "leave" or "fail".
func (t EventType) String() string {
	switch t {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventLeave:
		return "leave"
	case EventFail:
		return "fail"
	default:
		return "EventType(" + strconv.Itoa(int(t)) + ")"
	}
}

// Event is a change to one member; Member is its state right after.
type Event struct {
	Type   EventType
	Member Member
}

// subscriber is one Subscribe call. Events go straight into ch while it has
// room; once an event is dropped, the member's name goes into dirty and every
// later event takes the same path until flush has caught up, so a coalesced
// EventUpdate with the then-current state is never overtaken by older news.
type subscriber struct {
	ch   chan Event
	kick chan struct{} // cap 1: dirty has names
	done chan struct{} // closed by cancel
	wg   sync.WaitGroup

	mu       sync.Mutex
	dirty    map[string]struct{}
	flushing bool
}

// Subscribe returns a channel of membership events and a cancel func that
// ends the subscription and closes the channel; Shutdown cancels every
// subscription. Events are never blocked on: if the channel (buffer 256)
// is full the event is dropped and, once there is room, the subscriber gets
// one EventUpdate per affected member carrying its state at that time.
// Subscribe and cancel are safe for concurrent use; cancel is idempotent.
func (c *Cluster) Subscribe() (ch <-chan Event, cancel func()) {
	s := &subscriber{
		ch:    make(chan Event, subscriberBuffer),
		kick:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		dirty: map[string]struct{}{},
	}
	c.mu.Lock()
	if c.subs == nil { // shut down
		c.mu.Unlock()
		close(s.ch)
		return s.ch, func() {}
	}
	c.subs[s] = struct{}{}
	c.mu.Unlock()
	s.wg.Add(1)
	go c.flush(s)
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			c.mu.Lock()
			_, ok := c.subs[s]
			delete(c.subs, s)
			c.mu.Unlock()
			if ok {
				s.stop()
			}
		})
	}
}

// stop ends the flusher and closes ch. The subscriber must already be out
// of c.subs so that no publish can race with the close.
func (s *subscriber) stop() {
	close(s.done)
	s.wg.Wait()
	close(s.ch)
}

// publishLocked offers ev to every subscriber without blocking. c.mu must be
// held, which keeps events in the order the table changed.
func (c *Cluster) publishLocked(ev Event) {
	for s := range c.subs {
		s.offer(ev)
	}
}

func (s *subscriber) offer(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dirty) == 0 && !s.flushing {
		select {
		case s.ch <- ev:
			return
		default:
		}
	}
	s.dirty[ev.Member.Name] = struct{}{}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// flush delivers coalesced updates for dropped events, blocking on the
// subscriber's channel (never on memberlist) until cancelled.
func (c *Cluster) flush(s *subscriber) {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case <-s.kick:
		}
		for {
			s.mu.Lock()
			if len(s.dirty) == 0 {
				s.flushing = false
				s.mu.Unlock()
				break
			}
			names := make([]string, 0, len(s.dirty))
			for n := range s.dirty {
				names = append(names, n)
			}
			clear(s.dirty)
			s.flushing = true
			s.mu.Unlock()
			slices.Sort(names)
			for _, n := range names {
				m, ok := c.Member(n)
				if !ok {
					continue // forgotten meanwhile
				}
				select {
				case s.ch <- Event{Type: EventUpdate, Member: m}:
				case <-s.done:
					return
				}
			}
		}
	}
}

// closeSubscribers cancels every subscription; later Subscribe calls get a
// closed channel.
func (c *Cluster) closeSubscribers() {
	c.mu.Lock()
	subs := c.subs
	c.subs = nil
	c.mu.Unlock()
	for s := range subs {
		s.stop()
	}
}
