// Package secret generates and hashes the cluster's bearer secrets (API
// keys, webhook tokens, admin tokens) in one place, so that every secret is
// drawn from the CSPRNG, stored only as a SHA-256 digest and compared in
// constant time.
package secret
