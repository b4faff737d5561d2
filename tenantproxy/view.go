package tenantproxy

import (
	"errors"
	"strings"

	"github.com/rendercache/rendercache/internal/indexmemo"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/tenant"
)

// maxView bounds the hosts a view remembers per applied index, found or
// not: beyond it lookups still work, they are just not remembered, so a
// flood of made-up hosts cannot grow memory.
const maxView = 1 << 16

// view keeps the sites of the hosts this node was asked for (a tenant's
// <slug>.<tenant-domain> or active custom domain, or none), decoded once
// per applied raft index (indexmemo), so that a hit neither decodes state
// nor allocates. Every change to a tenant or a domain is a raft write,
// which moves the index. Safe for concurrent use.
type view struct {
	state record.Reader
	sites *indexmemo.Memo[string, *site] // nil: no tenant has the host
}

// newView returns the view; a nil applied remembers nothing.
func newView(state record.Reader, applied func() uint64) *view {
	return &view{state: state, sites: indexmemo.New[string, *site](applied, maxView)}
}

// site returns the tenant site that host names for s: one label under
// the tenant domain is a slug, any other host an active custom domain.
func (v *view) site(s *Surface, host string) (*site, bool) {
	st := v.sites.Get(host, func() (*site, bool) {
		st, remember, err := v.lookup(s, host)
		return st, err == nil && remember
	})
	return st, st != nil
}

// lookup reads host's tenant from local state: nil when no tenant has
// it, remember false for hosts not worth a map entry, and an error
// (nothing to remember) when state could not be read.
func (v *view) lookup(s *Surface, host string) (st *site, remember bool, err error) {
	var t tenant.Tenant
	switch {
	case s.Claims(host):
		t, err = tenant.Lookup(v.state, host[:len(host)-len(s.suffix)])
	case strings.HasSuffix(host, s.suffix) || host == s.cfg.TenantDomain:
		// The product's own names are never custom domains.
		return nil, false, nil
	default:
		t, err = tenant.ActiveHost(v.state, host)
	}
	switch {
	case err == nil:
		return newSite(s, t), true, nil
	case errors.Is(err, tenant.ErrNotFound), errors.Is(err, tenant.ErrDomainNotFound):
		return nil, true, nil
	}
	return nil, false, err
}

// tenantHost reports whether host is a tenant host: one label under the
// tenant domain, whether or not a tenant has it, or an active custom
// domain. Allocation-free once the view knows host.
func (s *Surface) tenantHost(host string) bool {
	if s.Claims(host) {
		return true
	}
	_, ok := s.view.site(s, host)
	return ok
}
