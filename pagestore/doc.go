// Package pagestore is the on-disk L2 behind the in-memory page cache: the
// owner of a key writes every fill here, so that a restarted node serves
// the pages it had instead of spending seconds of Chromium time on each
// again. It lives in the node-local Pebble keyspace, is bounded in bytes,
// and entries expire; evicting the soonest-expiring entries first keeps the
// pages with the most life left.
package pagestore
