// Package node wires one rendercache node together (storage, consensus,
// membership, HTTP listeners) and owns its lifecycle: start, join, graceful
// stop and abrupt kill. Tests start many nodes in one process through it.
package node
