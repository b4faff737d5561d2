// Package netfault injects network partitions into a node's three transports
// (raft's stream layer, memberlist's transport and internal HTTP) so that
// failover can be tested with real sockets in one process.
//
// A nil *Injector allows everything, so production code passes nil and pays
// nothing.
package netfault
