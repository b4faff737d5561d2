package node

import (
	"context"
	"fmt"
	"net"

	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/tenantcheck"
)

// newChecks returns the tenants' implementation checker. Preview probes
// dial this node's own public listener with the tenant's host (no public
// DNS needed for <slug>.<tenant-domain>); custom domains and checked
// sites are resolved with --dns-resolver when it is set (else the
// system's resolver) and dialed through the origin policy. Probe URLs
// take --public-url's scheme and port.
func (n *Node) newChecks(policy origin.Policy) (*tenantcheck.Checker, error) {
	cfg := tenantcheck.Config{
		TenantDomain:   n.cfg.TenantDomain,
		ProductDomains: n.productDomains(),
		PublicURL:      n.cfg.PublicURL,
		Self:           n.HTTPAddr,
		Domains:        n.tenants,
		Policy:         policy,
		Logger:         n.log,
	}
	if addr := n.cfg.DNSResolver; addr != "" {
		cfg.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
	}
	c, err := tenantcheck.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("tenant checks: %w", err)
	}
	return c, nil
}
