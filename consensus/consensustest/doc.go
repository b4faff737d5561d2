// Package consensustest starts a real single-node raft over real Pebble for
// the unit tests of packages that register FSM commands, and checks that
// their Apply is deterministic by replaying the raft log into fresh state
// machines.
//
// It exists so that each such package tests its commands exactly as a node
// proposes and reads them, without a copy of the setup of its own: a fake
// raft or an in-memory store would hide the encoding, the Pebble
// transaction and the replay that production relies on.
package consensustest
