package cluster

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/rendercache/rendercache/internal/netfault"
)

// faultTransport wraps memberlist's NetTransport so that a netfault.Injector
// can cut gossip between nodes: packets to or from a partitioned node are
// dropped, stream dials to it fail, and established streams break when a
// partition starts. Incoming streams pass through: the dialing side's
// wrapped conn is enough, as netfault documents.
type faultTransport struct {
	inner  *memberlist.NetTransport
	faults *netfault.Injector
	self   string // node name, as registered in faults

	packets  chan *memberlist.Packet
	stop     chan struct{} // closed first on Shutdown: stop delivering
	drained  chan struct{} // closed once inner is shut down: stop draining
	wg       sync.WaitGroup
	shutOnce sync.Once
}

var _ memberlist.NodeAwareTransport = (*faultTransport)(nil)

func newFaultTransport(inner *memberlist.NetTransport, faults *netfault.Injector, self string) *faultTransport {
	t := &faultTransport{
		inner:   inner,
		faults:  faults,
		self:    self,
		packets: make(chan *memberlist.Packet),
		stop:    make(chan struct{}),
		drained: make(chan struct{}),
	}
	t.wg.Add(1)
	go t.filterPackets()
	return t
}

// filterPackets forwards allowed incoming packets. It keeps draining the
// inner channel during Shutdown, because NetTransport's UDP reader blocks on
// that channel and Shutdown waits for the reader.
func (t *faultTransport) filterPackets() {
	defer t.wg.Done()
	in := t.inner.PacketCh()
	for {
		select {
		case <-t.drained:
			return
		case p := <-in:
			if !t.faults.Allowed(t.self, p.From.String()) {
				continue
			}
			select {
			case t.packets <- p:
			case <-t.stop:
			}
		}
	}
}

func (t *faultTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	return t.inner.FinalAdvertiseAddr(ip, port)
}

func (t *faultTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress silently drops packets across a partition, as a lossy
// network would.
func (t *faultTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if !t.faults.Allowed(t.self, a.Addr) {
		return time.Now(), nil
	}
	return t.inner.WriteToAddress(b, a)
}

func (t *faultTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

func (t *faultTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *faultTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if !t.faults.Allowed(t.self, a.Addr) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: netfault.ErrPartitioned}
	}
	conn, err := t.inner.DialAddressTimeout(a, timeout)
	if err != nil {
		return nil, err
	}
	return t.faults.WrapConn(t.self, a.Addr, conn), nil
}

func (t *faultTransport) StreamCh() <-chan net.Conn { return t.inner.StreamCh() }

// Shutdown stops the listeners and the packet filter. It is idempotent.
func (t *faultTransport) Shutdown() error {
	var err error
	t.shutOnce.Do(func() {
		close(t.stop)
		if err = t.inner.Shutdown(); err != nil {
			err = fmt.Errorf("cluster: transport: %w", err)
		}
		close(t.drained)
		t.wg.Wait()
	})
	return err
}
