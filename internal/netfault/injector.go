package netfault

import (
	"context"
	"errors"
	"net"
	"sync"
)

var (
	// ErrPartitioned is returned by dials, reads and writes that cross an
	// injected partition. It looks like a network failure to callers.
	ErrPartitioned = errors.New("netfault: partitioned")
)

// Injector decides whether traffic between two nodes may flow. Nodes are
// identified by name; every listener address of a node is registered so that
// a dial to an address can be attributed to its node.
//
// An Injector is safe for concurrent use. The zero value is not usable; use
// New. A nil *Injector allows all traffic.
type Injector struct {
	mu      sync.RWMutex
	owner   map[string]string // address -> node name
	groupOf map[string]int    // node name -> partition group; absent = unrestricted
	down    map[string]bool   // nodes cut off from everyone, whatever the partition
	conns   map[*conn]struct{}
}

// New returns an Injector with no partitions.
func New() *Injector {
	return &Injector{owner: map[string]string{}, groupOf: map[string]int{}, down: map[string]bool{}}
}

// Register records that addr (host:port) belongs to node, so dials to addr
// are subject to node's partition group.
func (in *Injector) Register(node string, addrs ...string) {
	if in == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, a := range addrs {
		in.owner[a] = node
	}
}

// Partition splits the nodes into groups that cannot reach each other. Nodes
// not named in any group are cut off from everyone (an isolated node).
func (in *Injector) Partition(groups ...[]string) {
	if in == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.groupOf = map[string]int{}
	for i, g := range groups {
		for _, n := range g {
			in.groupOf[n] = i + 1
		}
	}
	// Mark every registered node not in a group as isolated.
	next := len(groups) + 1
	for _, n := range in.owner {
		if _, ok := in.groupOf[n]; !ok {
			in.groupOf[n] = next
			next++
		}
	}
	in.cutLocked()
}

// Isolate cuts node off from every other node, keeping existing partitions.
func (in *Injector) Isolate(node string) {
	if in == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	max := 0
	for _, g := range in.groupOf {
		if g > max {
			max = g
		}
	}
	if len(in.groupOf) == 0 {
		// Everybody else stays together in group 1.
		for _, n := range in.owner {
			in.groupOf[n] = 1
		}
		max = 1
	}
	in.groupOf[node] = max + 1
	in.cutLocked()
}

// Heal removes every partition.
func (in *Injector) Heal() {
	if in == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.groupOf = map[string]int{}
	in.cutLocked()
}

// Allowed reports whether node from may exchange traffic with the node that
// owns address to. Unknown addresses are always allowed.
func (in *Injector) Allowed(from, to string) bool {
	if in == nil {
		return true
	}
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.allowedLocked(from, to)
}

func (in *Injector) allowedLocked(from, toAddr string) bool {
	if len(in.groupOf) == 0 && len(in.down) == 0 {
		return true
	}
	toNode, ok := in.owner[toAddr]
	if !ok || toNode == from {
		return true
	}
	if in.down[from] || in.down[toNode] {
		return false
	}
	return in.groupOf[from] == in.groupOf[toNode]
}

// Down cuts node off from everyone, closing its connections, as a crashed
// process is, until Up. Partitions set meanwhile are kept: Down is not a
// partition and Up undoes only Down.
func (in *Injector) Down(node string) {
	if in == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.down[node] = true
	in.cutLocked()
}

// Up ends Down: node is again subject only to the partitions.
func (in *Injector) Up(node string) {
	if in == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.down, node)
}

// DialContext dials addr on behalf of node from, failing with ErrPartitioned
// when a partition separates them, and returns a conn that stops working as
// soon as a later partition separates them.
func (in *Injector) DialContext(ctx context.Context, d *net.Dialer, from, network, addr string) (net.Conn, error) {
	if !in.Allowed(from, addr) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: ErrPartitioned}
	}
	if d == nil {
		d = &net.Dialer{}
	}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return in.WrapConn(from, addr, c), nil
}

// WrapConn returns c wrapped so that reads and writes fail once from and the
// owner of addr are partitioned; a partition also closes it at once so that
// blocked reads return. Only the dialing side needs wrapping: the accepting
// side sees the conn close, as with a reset.
func (in *Injector) WrapConn(from, addr string, c net.Conn) net.Conn {
	if in == nil {
		return c
	}
	w := &conn{Conn: c, in: in, from: from, to: addr}
	in.mu.Lock()
	if in.conns == nil {
		in.conns = map[*conn]struct{}{}
	}
	in.conns[w] = struct{}{}
	in.mu.Unlock()
	return w
}

// cutLocked closes every tracked conn that the current partition forbids.
// Closing happens outside the lock's critical work but under it is safe:
// net.Conn.Close does not call back into the Injector.
func (in *Injector) cutLocked() {
	for c := range in.conns {
		if !in.allowedLocked(c.from, c.to) {
			c.Conn.Close()
			delete(in.conns, c)
		}
	}
}

func (in *Injector) forget(c *conn) {
	in.mu.Lock()
	delete(in.conns, c)
	in.mu.Unlock()
}

type conn struct {
	net.Conn
	in       *Injector
	from, to string
}

func (c *conn) check(op string) error {
	if c.in.Allowed(c.from, c.to) {
		return nil
	}
	c.Close()
	return &net.OpError{Op: op, Net: "tcp", Err: ErrPartitioned}
}

func (c *conn) Read(b []byte) (int, error) {
	if err := c.check("read"); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(b)
	if err != nil {
		if cerr := c.check("read"); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}

func (c *conn) Write(b []byte) (int, error) {
	if err := c.check("write"); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *conn) Close() error {
	c.in.forget(c)
	return c.Conn.Close()
}
