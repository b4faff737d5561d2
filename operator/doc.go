// Package operator authenticates the cluster's operator, who creates
// accounts through /admin. The admin token's SHA-256 hash is replicated so
// every node accepts a token generated on the bootstrap node.
package operator
