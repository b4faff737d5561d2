package consensus

import (
	"context"
	"net"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rendercache/rendercache/internal/netfault"
)

// defaultBarrierTimeout bounds one shared read barrier.
const defaultBarrierTimeout = 5 * time.Second

// streamLayer is raft's TCP stream layer with fault injection on dials.
type streamLayer struct {
	net.Listener
	advertise net.Addr
	self      string
	faults    *netfault.Injector
}

var _ raft.StreamLayer = (*streamLayer)(nil)

func (s *streamLayer) Addr() net.Addr { return s.advertise }

func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.faults.DialContext(ctx, &net.Dialer{}, s.self, "tcp", string(addr))
}
