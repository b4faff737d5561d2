package cluster

import "errors"

var (
	// ErrInvalidConfig is wrapped by every rejection from Config.Validate.
	ErrInvalidConfig = errors.New("cluster: invalid config")

	// ErrMetaTooLarge means Meta encodes to more than the 512 bytes
	// memberlist can gossip for a node.
	ErrMetaTooLarge = errors.New("cluster: meta too large")

	// ErrNoAddresses means Join was given nothing to contact.
	ErrNoAddresses = errors.New("cluster: no addresses to join")

	// ErrShutdown means the Cluster has already been shut down or left.
	ErrShutdown = errors.New("cluster: shut down")
)
