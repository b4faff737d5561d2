// Package errkind classifies errors by what the caller should do about them
// (fix the request, authenticate, retry later), so that an error raised inside
// the replicated state machine on the leader keeps its meaning after being
// forwarded to a follower and mapped to an HTTP status there.
package errkind
