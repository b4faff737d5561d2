// Package cache shards cached values over the cluster with
// golang/groupcache: every key has one owner chosen by consistent hashing
// over the live members, and a miss is filled once, on the owner, however
// many nodes ask at the same time.
//
// golang/groupcache keeps process-global state (one peer picker, global
// group names), which would allow one node per process. This package
// registers a single per-group picker that dispatches to the node that
// created the group, names groups per node incarnation, and speaks the peer
// protocol over the node's internal listener with the cluster key instead
// of groupcache's HTTPPool. That lets testcluster run N nodes in one
// process and keeps the peer endpoint off the public listener.
package cache
