// Package apikey issues, revokes and checks account API keys. Keys are
// replicated as SHA-256 digests only, so any node can authenticate a
// request from its local state, and the raw key is shown exactly once.
package apikey
