package consensus

import (
	"errors"
	"net"
)

// isDialError reports whether err happened while connecting, before any
// byte of the request could reach the peer.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
