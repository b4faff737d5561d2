// Package cluster discovers the other nodes and tracks who is alive by
// gossip (hashicorp/memberlist), so that every node learns its peers'
// listener addresses and failures without a central registry.
package cluster
