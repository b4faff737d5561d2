// Package consensus replicates the cluster's control-plane state through
// hashicorp/raft: it owns the typed command encoding, the deterministic state
// machine over Pebble, forwarding of writes to the leader, read-your-writes
// reads on any node, and voter management driven by membership.
//
// Handlers never ask who the leader is: Apply and Fresh work on every node.
package consensus
