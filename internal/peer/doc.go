// Package peer authenticates node-to-node HTTP on the internal listener with
// the cluster key, so that forwarding, cache fills and index gathering are
// never reachable by clients of the public API.
package peer
