// Package testcluster runs N real rendercache nodes in one process (real
// Pebble in temp dirs, raft over TCP, memberlist on 127.0.0.1) with fault
// injection on every transport, so that failover is tested against the same
// code that runs in production. `rendercache dev` uses it too.
package testcluster
