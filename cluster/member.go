package cluster

import (
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// Meta is the node metadata gossiped to every member: the addresses of the
// node's other listeners, which cannot be derived from its gossip address.
// It must encode (JSON) to at most 512 bytes.
type Meta struct {
	HTTPAddr     string `json:"http"`
	InternalAddr string `json:"internal"`
	RaftAddr     string `json:"raft"`
}

// State is a member's liveness as this node sees it.
type State int

// Member states.
const (
	StateAlive State = iota // reachable, or not yet found to be otherwise
	StateDead               // failed: stopped answering probes
	StateLeft               // left gracefully (Leave)
)

// String returns "alive", "dead" or "left".
func (s State) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateDead:
		return "dead"
	case StateLeft:
		return "left"
	default:
		return "State(" + strconv.Itoa(int(s)) + ")"
	}
}

// Member is a snapshot of one node as this node sees it. It is a value:
// later changes are not reflected in it.
type Member struct {
	Name       string
	GossipAddr string // host:port
	Meta       Meta
	State      State
	Since      time.Time // when this node observed the current State
}

// record is the table's entry for a member.
type record struct {
	Member
	leaving bool // a leave intent arrived while it was alive
}

// memberFromNode converts memberlist's view of a node; meta that does not
// decode (a foreign node) leaves Meta zero and reports false.
func memberFromNode(n *memberlist.Node) (Member, bool) {
	m := Member{
		Name:       n.Name,
		GossipAddr: net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port))),
	}
	ok := true
	if len(n.Meta) > 0 {
		ok = json.Unmarshal(n.Meta, &m.Meta) == nil
	}
	return m, ok
}

// applyJoin records n as alive and returns the event to publish. c.mu must
// be held.
func (c *Cluster) applyJoin(n *memberlist.Node, now time.Time) Event {
	m, ok := memberFromNode(n)
	if !ok {
		c.log.Warn("member meta does not decode; ignoring it", "member", n.Name)
	}
	r := c.members[n.Name]
	if r == nil {
		r = &record{}
		c.members[n.Name] = r
	}
	if r.State != StateAlive || r.Since.IsZero() {
		m.Since = now
	} else {
		m.Since = r.Since
	}
	m.State = StateAlive
	r.Member, r.leaving = m, false
	if n.Name != c.cfg.Name {
		c.metPeer = true
	}
	return Event{Type: EventJoin, Member: m}
}

// applyUpdate records n's new metadata. c.mu must be held.
func (c *Cluster) applyUpdate(n *memberlist.Node, now time.Time) Event {
	m, ok := memberFromNode(n)
	if !ok {
		c.log.Warn("member meta does not decode; ignoring it", "member", n.Name)
	}
	r := c.members[n.Name]
	if r == nil {
		r = &record{Member: Member{State: StateAlive, Since: now}}
		c.members[n.Name] = r
	}
	r.Meta, r.GossipAddr = m.Meta, m.GossipAddr
	return Event{Type: EventUpdate, Member: r.Member}
}

// applyLeave records n as left if it announced its leave (or memberlist
// says so), dead otherwise. c.mu must be held.
func (c *Cluster) applyLeave(n *memberlist.Node, now time.Time) Event {
	r := c.members[n.Name]
	if r == nil {
		m, _ := memberFromNode(n)
		r = &record{Member: m}
		c.members[n.Name] = r
	}
	// memberlist v0.7.0 never fills Node.State for delegates (nodeState
	// shadows it), so the leave intent is what tells a graceful leave from
	// a failure; the State check keeps working if memberlist fixes that.
	st := StateDead
	if n.State == memberlist.StateLeft || r.leaving || n.Name == c.cfg.Name && c.leaving.Load() {
		st = StateLeft
	}
	r.State, r.Since, r.leaving = st, now, false
	typ := EventFail
	if st == StateLeft {
		typ = EventLeave
	}
	return Event{Type: typ, Member: r.Member}
}

// Members returns every member this node knows, sorted by Name: itself,
// alive members, and members seen dead or left in the last 24h. It is safe
// for concurrent use and keeps working after Shutdown.
func (c *Cluster) Members() []Member {
	c.mu.Lock()
	c.pruneLocked(c.now())
	out := make([]Member, 0, len(c.members))
	for _, r := range c.members {
		out = append(out, r.Member)
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Member returns the member called name, if known. It is safe for
// concurrent use.
func (c *Cluster) Member(name string) (Member, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.members[name]
	if !ok {
		return Member{}, false
	}
	return r.Member, true
}

// pruneLocked forgets members dead or left for longer than c.forgetAfter
// and reports whether any were removed. c.mu must be held.
func (c *Cluster) pruneLocked(now time.Time) bool {
	removed := false
	for name, r := range c.members {
		if name != c.cfg.Name && r.State != StateAlive && now.Sub(r.Since) > c.forgetAfter {
			delete(c.members, name)
			delete(c.intents, name)
			removed = true
		}
	}
	if removed {
		c.kickPersist()
	}
	return removed
}

// peerAddrsLocked returns the gossip addresses of other members in the given
// states, sorted. c.mu must be held.
func (c *Cluster) peerAddrsLocked(states ...State) []string {
	var out []string
	for name, r := range c.members {
		if name == c.cfg.Name || r.GossipAddr == c.advertise || !slices.Contains(states, r.State) {
			continue
		}
		out = append(out, r.GossipAddr)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// otherAliveLocked reports whether a member other than this node is alive.
// c.mu must be held.
func (c *Cluster) otherAliveLocked() bool {
	for name, r := range c.members {
		if name != c.cfg.Name && r.State == StateAlive {
			return true
		}
	}
	return false
}
