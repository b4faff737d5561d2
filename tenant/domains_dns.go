package tenant

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// Resolver looks up the TXT records that prove control of a custom
// domain. Implementations must be safe for concurrent use and return
// ErrNXDomain or ErrNoTXT for the two kinds of "nothing there", and
// errors fit to show a tenant (no resolver address) for the rest.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

var (
	// ErrNXDomain means the name does not exist.
	ErrNXDomain = errors.New("NXDOMAIN")
	// ErrNoTXT means the name exists but has no TXT record.
	ErrNoTXT = errors.New("no TXT record")
	// ErrDNSTimeout means the resolver did not answer in time.
	ErrDNSTimeout = errors.New("the resolver timed out")
	// ErrDNSUnreachable means no answer could be had from the resolver.
	ErrDNSUnreachable = errors.New("the resolver could not be reached")
	// ErrNoResolver means no resolver is configured and the system has
	// none (no nameserver in /etc/resolv.conf).
	ErrNoResolver = errors.New("no DNS resolver is configured (set --dns-resolver)")
)

const (
	// resolvConf is where the system's resolvers are read from.
	resolvConf = "/etc/resolv.conf"
	// udpSize is the UDP answer size the resolver advertises (EDNS0);
	// larger answers come truncated and are asked again over TCP.
	udpSize = 4096
)

// NewResolver returns a Resolver that asks the DNS server at addr
// (host:port, --dns-resolver), or when addr is "" the system's
// nameservers from /etc/resolv.conf, read at each lookup, in order. It
// asks over UDP and again over TCP when the answer is truncated.
func NewResolver(addr string) Resolver {
	if addr == "" {
		return &dnsResolver{conf: resolvConf}
	}
	return &dnsResolver{servers: []string{addr}}
}

// dnsResolver speaks DNS itself, so that it can tell NXDOMAIN from a name
// without TXT records and from a failing resolver.
type dnsResolver struct {
	servers []string // nil: the nameservers of conf
	conf    string
}

func (r *dnsResolver) nameservers() ([]string, error) {
	if r.servers != nil {
		return r.servers, nil
	}
	cc, err := dns.ClientConfigFromFile(r.conf)
	if err != nil || len(cc.Servers) == 0 {
		return nil, ErrNoResolver
	}
	out := make([]string, 0, len(cc.Servers))
	for _, s := range cc.Servers {
		out = append(out, net.JoinHostPort(s, cc.Port))
	}
	return out, nil
}

// LookupTXT implements Resolver: each TXT record's strings are joined
// into one value. A server that fails is followed by the next one; an
// NXDOMAIN or an answer without TXT records ends the lookup.
func (r *dnsResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	servers, err := r.nameservers()
	if err != nil {
		return nil, err
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	q.RecursionDesired = true
	q.SetEdns0(udpSize, false)
	last := ErrDNSUnreachable
	for _, srv := range servers {
		in, err := exchange(ctx, q, srv)
		if err != nil {
			last = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		switch in.Rcode {
		case dns.RcodeSuccess:
		case dns.RcodeNameError:
			return nil, ErrNXDomain
		default:
			last = fmt.Errorf("the resolver answered %s", dns.RcodeToString[in.Rcode])
			continue
		}
		var out []string
		for _, rr := range in.Answer {
			if t, ok := rr.(*dns.TXT); ok {
				out = append(out, strings.Join(t.Txt, ""))
			}
		}
		if len(out) == 0 {
			return nil, ErrNoTXT
		}
		return out, nil
	}
	return nil, last
}

// exchange asks srv over UDP, then TCP if the answer was truncated, and
// reduces failures to ErrDNSTimeout or ErrDNSUnreachable.
func exchange(ctx context.Context, q *dns.Msg, srv string) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp"}
	in, _, err := c.ExchangeContext(ctx, q, srv)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, q, srv)
	}
	if err == nil {
		return in, nil
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return nil, ErrDNSTimeout
	}
	return nil, ErrDNSUnreachable
}
