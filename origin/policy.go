package origin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// guardian classifies addresses with ssrf's deny lists, which follow IANA's
// special-purpose registries (private, loopback, link-local, shared,
// documentation, multicast, reserved; for IPv6 everything outside global
// unicast). Ports and networks are not the policy's business.
var guardian = ssrf.New(ssrf.WithAnyPort(), ssrf.WithAnyNetwork())

// Policy decides which resolved IP addresses origins may be fetched from.
// The zero value is strict: only public unicast addresses are allowed.
//
// A Policy is a plain value, safe for concurrent use as long as AllowCIDRs
// is not modified once it is in use.
type Policy struct {
	// AllowPrivate allows every address (--allow-private-origins), for
	// tests and development.
	AllowPrivate bool
	// AllowCIDRs allows these prefixes even when they are private or
	// reserved (--allow-origin-cidrs), for self-hosted origins on private
	// networks. IPv4-mapped IPv6 prefixes also match plain IPv4 addresses.
	AllowCIDRs []netip.Prefix
}

// ParseCIDRs parses the --allow-origin-cidrs list. Each entry is a CIDR
// such as "10.0.0.0/8" or "fd00::/8", or a single address, which means
// only that address. It refuses entries that are empty or have bits set
// after the prefix length ("10.1.2.3/8"), which usually are typos.
func ParseCIDRs(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		p, err := parseCIDR(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("parse origin CIDRs: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseCIDR parses one entry of ParseCIDRs's list.
func parseCIDR(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, errors.New("empty entry")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is neither a CIDR like 10.0.0.0/8 nor an IP address", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: IPv6 zones are not allowed", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	p = unmapPrefix(p)
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%q has address bits set after the prefix length; did you mean %q?", s, m.String())
	}
	return p, nil
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix such as ::ffff:10.0.0.0/104
// into the IPv4 prefix it covers, 10.0.0.0/8.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// AllowedAddr reports whether origins may be fetched from a. IPv4-mapped
// IPv6 addresses are judged as the IPv4 address they carry and IPv6 zones
// are ignored; the invalid Addr is never allowed.
func (p Policy) AllowedAddr(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return false
	}
	if p.AllowPrivate {
		return true
	}
	for _, pfx := range p.AllowCIDRs {
		if unmapPrefix(pfx).Contains(a) {
			return true
		}
	}
	return guardian.SafeAddr(a) == nil
}

// CheckOrigin reports whether o may be registered. An IP-address host is
// checked directly; a name is resolved with r (net.DefaultResolver when
// nil), and every address it resolves to must be allowed, otherwise the
// error wraps ErrBlockedAddr and names the address in its text. A name that
// does not resolve is a wrapped ErrBadOrigin; a cancelled ctx returns its
// error. When AllowPrivate is set, every address is allowed, so names are
// not resolved at all.
//
// Passing CheckOrigin does not make fetching safe later, since DNS may
// change: dial origins with DialContext or Control. CheckOrigin is safe for
// concurrent use.
func (p Policy) CheckOrigin(ctx context.Context, r *net.Resolver, o Origin) error {
	if o.Host == "" {
		return fmt.Errorf("check origin: %w", because(ErrBadOrigin, "the URL has no host"))
	}
	if a, err := netip.ParseAddr(o.Host); err == nil {
		if !p.AllowedAddr(a) {
			return fmt.Errorf("check origin %s: %w", o.Host, ErrBlockedAddr)
		}
		return nil
	}
	if p.AllowPrivate {
		return nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", o.Host)
	if ctx.Err() != nil {
		return fmt.Errorf("check origin %s: %w", o.Host, ctx.Err())
	}
	notFound := because(ErrBadOrigin, fmt.Sprintf("the host %q does not resolve to an IP address", o.Host))
	if err != nil {
		return fmt.Errorf("check origin: %w: %w", notFound, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("check origin: %w", notFound)
	}
	for _, a := range addrs {
		if !p.AllowedAddr(a) {
			return fmt.Errorf("check origin %s: resolves to %s: %w", o.Host, a.Unmap(), ErrBlockedAddr)
		}
	}
	return nil
}

// Control is a net.Dialer Control function that refuses, with an error
// wrapping ErrBlockedAddr, to connect to an address the policy does not
// allow. It runs after DNS resolution on the very address being dialled, so
// DNS rebinding cannot get past it; addresses that are not IP:port (Unix
// sockets, say) are refused. Safe for concurrent use.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("origin policy: dial %s %q: not an IP address and port: %w", network, address, ErrBlockedAddr)
	}
	if !p.AllowedAddr(ap.Addr()) {
		return fmt.Errorf("origin policy: dial %s %s: %w", network, address, ErrBlockedAddr)
	}
	return nil
}

// DialContext returns a dial function for http.Transport.DialContext that
// connects only to addresses the policy allows (see Control), giving up
// after timeout (zero means no timeout beyond ctx's). The function is safe
// for concurrent use; it keeps a copy of p.
func (p Policy) DialContext(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, Control: p.Control}
	return d.DialContext
}

// Transport returns an HTTP transport for fetching from origins: it dials
// only addresses the policy allows (checked on the address actually
// dialled, so DNS rebinding cannot get around it), keeps connections to
// busy origins, and waits at most responseHeader for an origin's headers.
// Every surface that fetches or proxies an origin (pages, zones, tenant
// proxies) uses it, so they share one rule and one set of limits.
func (p Policy) Transport(responseHeader time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:           p.DialContext(10 * time.Second),
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: responseHeader,
		TLSHandshakeTimeout:   10 * time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// Origin parses raw (ParseOrigin) and applies the policy to it
// (CheckOrigin), returning the origin in its normal form: what every
// resource that stores an origin (zones, tenants) checks before a write.
func (p Policy) Origin(ctx context.Context, raw string) (string, error) {
	o, err := ParseOrigin(raw)
	if err != nil {
		return "", err
	}
	if err := p.CheckOrigin(ctx, nil, o); err != nil {
		return "", err
	}
	return o.String(), nil
}
