// Package dnstest runs a real, authoritative DNS server on 127.0.0.1 for
// tests, with the TXT records a test publishes, so that code that looks
// up DNS (custom-domain verification) is tested over the wire without
// ever querying the network.
package dnstest
