package cluster

import (
	"encoding/json"
	"time"

	"github.com/hashicorp/memberlist"
)

// msgLeaveIntent tags a user message announcing a graceful leave. memberlist
// does not tell event delegates whether a node left or failed, so a leaving
// node gossips this first, the way serf does.
const msgLeaveIntent byte = 1

// leaveIntent is the body of a msgLeaveIntent message.
type leaveIntent struct {
	Node string `json:"node"`
	Boot int64  `json:"boot"` // the sender's start time, to tell intents apart
}

// events receives memberlist's membership callbacks. memberlist calls them
// one at a time with its node lock held, so they only touch the table and
// hand events to subscribers without blocking.
type events struct{ c *Cluster }

var _ memberlist.EventDelegate = events{}

func (e events) NotifyJoin(n *memberlist.Node)   { e.c.apply(n, e.c.applyJoin) }
func (e events) NotifyUpdate(n *memberlist.Node) { e.c.apply(n, e.c.applyUpdate) }
func (e events) NotifyLeave(n *memberlist.Node)  { e.c.apply(n, e.c.applyLeave) }

func (c *Cluster) apply(n *memberlist.Node, f func(*memberlist.Node, time.Time) Event) {
	c.mu.Lock()
	ev := f(n, c.now())
	c.publishLocked(ev)
	alive := 0
	for _, r := range c.members {
		if r.State == StateAlive {
			alive++
		}
	}
	c.aliveCount.Store(int32(alive))
	c.mu.Unlock()
	c.kickPersist()
	c.log.Debug("membership changed", "event", ev.Type.String(), "member", ev.Member.Name, "addr", ev.Member.GossipAddr)
}

// delegate supplies this node's metadata and carries leave intents.
type delegate struct{ c *Cluster }

var _ memberlist.Delegate = delegate{}

// NodeMeta returns the encoded Meta; New and UpdateMeta keep it in limit.
func (d delegate) NodeMeta(limit int) []byte {
	b := *d.c.meta.Load()
	if len(b) > limit {
		return nil
	}
	return b
}

// NotifyMsg handles a leave intent: the member is marked as leaving so that
// its coming NotifyLeave counts as a leave, or, if it was already declared
// dead, it becomes left at once. New intents are gossiped on.
func (d delegate) NotifyMsg(b []byte) {
	if len(b) == 0 || b[0] != msgLeaveIntent {
		return
	}
	var in leaveIntent
	if err := json.Unmarshal(b[1:], &in); err != nil || in.Node == "" {
		d.c.log.Warn("ignoring malformed leave intent", "err", err)
		return
	}
	c := d.c
	c.mu.Lock()
	if c.intents[in.Node] == in.Boot || in.Node == c.cfg.Name {
		c.mu.Unlock()
		return
	}
	c.intents[in.Node] = in.Boot
	if r, ok := c.members[in.Node]; ok {
		switch r.State {
		case StateAlive:
			r.leaving = true
		case StateDead:
			r.State, r.Since = StateLeft, c.now()
			c.publishLocked(Event{Type: EventLeave, Member: r.Member})
		}
	}
	c.mu.Unlock()
	c.log.Debug("leave intent received", "member", in.Node)
	c.broadcasts.QueueBroadcast(&intentBroadcast{node: in.Node, msg: append([]byte(nil), b...)})
}

func (d delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.c.broadcasts.GetBroadcasts(overhead, limit)
}

func (d delegate) LocalState(join bool) []byte            { return nil }
func (d delegate) MergeRemoteState(buf []byte, join bool) {}

// intentBroadcast is a queued leave intent; a newer one for the same node
// replaces it.
type intentBroadcast struct {
	node   string
	msg    []byte
	notify chan struct{} // closed when sent often enough; may be nil
}

var _ memberlist.Broadcast = (*intentBroadcast)(nil)

func (b *intentBroadcast) Invalidates(other memberlist.Broadcast) bool {
	o, ok := other.(*intentBroadcast)
	return ok && o.node == b.node
}

func (b *intentBroadcast) Message() []byte { return b.msg }

func (b *intentBroadcast) Finished() {
	if b.notify != nil {
		close(b.notify)
	}
}

// encodeIntent builds this node's leave intent message.
func encodeIntent(in leaveIntent) []byte {
	body, _ := json.Marshal(in) // two plain fields: cannot fail
	return append([]byte{msgLeaveIntent}, body...)
}
