package edge

import (
	"net"

	"github.com/rendercache/rendercache/origin"
)

// CanonicalHost returns the host of a request's Host field (host or
// host:port) in the form registered hosts are stored in: lower-case
// ASCII, IDNA applied, no trailing dot (origin.NormalizeHost). Hosts
// almost always arrive in that form already, and then this costs one
// scan and no allocation; only others pay for IDNA. ok is false for a
// host that cannot be a registered name.
func CanonicalHost(hostport string) (host string, ok bool) {
	host = hostport
	if i := lastColon(host); i >= 0 {
		h, _, err := net.SplitHostPort(host)
		if err != nil {
			return "", false
		}
		host = h
	}
	if canonical(host) {
		return host, true
	}
	norm, err := origin.NormalizeHost(host)
	if err != nil {
		return "", false
	}
	return norm, true
}

// lastColon returns the index of a port separator in hostport, or -1. A
// bracketed IPv6 literal without a port has colons but no separator.
func lastColon(hostport string) int {
	for i := len(hostport) - 1; i >= 0; i-- {
		switch hostport[i] {
		case ':':
			return i
		case ']':
			return -1
		}
	}
	return -1
}

// canonical reports whether host is already in origin.NormalizeHost's
// form (lower-case ASCII letters, digits, dots and hyphens, no trailing
// dot), so that it can be looked up as it is. A host that passes but is
// not a valid name simply is not found.
func canonical(host string) bool {
	if host == "" || host[len(host)-1] == '.' {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
