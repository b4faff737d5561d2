package tenant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/origin"
)

// VerifyTimeout bounds one verification's DNS lookup.
const VerifyTimeout = 10 * time.Second

// productDomains returns the normalized names no custom domain may be
// or be under: the tenant domain and opts.ProductDomains. Names that are
// not domain names (an IP address in a public URL) are left out.
func productDomains(opts Options) []string {
	var out []string
	for _, d := range append([]string{opts.TenantDomain}, opts.ProductDomains...) {
		if n, err := origin.NormalizeHost(d); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// checkHostname validates a hostname being added: a registrable name
// under the SSRF policy, short enough for its TXT name, and none of the
// product's own.
func (s *Service) checkHostname(raw string) (string, error) {
	h, err := s.policy.RegistrableHost(raw)
	if err != nil {
		return "", err
	}
	if len(h) > MaxHostnameLen {
		return "", ErrBadHostname
	}
	for _, p := range s.products {
		if h == p || strings.HasSuffix(h, "."+p) {
			return "", ErrBadHostname
		}
	}
	return h, nil
}

// lookupHostname normalizes a hostname that names an existing domain;
// "" is ErrHostnameRequired.
func lookupHostname(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", ErrHostnameRequired
	}
	h, err := origin.NormalizeHost(raw)
	if err != nil {
		return "", err
	}
	return h, nil
}

func newVerifyValue() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("verification value: %w", err)
	}
	return VerifyValuePrefix + hex.EncodeToString(b[:]), nil
}

// Domains lists the tenant's custom domains in hostname order (viewer
// and above).
func (s *Service) Domains(ctx context.Context, actor Actor, slug string) ([]Domain, error) {
	if _, _, err := s.Authorize(ctx, actor, slug, ActRead); err != nil {
		return nil, err
	}
	return record.List[Domain](s.state, domainPrefix(slug))
}

// AddDomain adds hostname to the tenant as a pending domain with a fresh
// verification TXT record (editor and above). A hostname any tenant has
// is ErrDomainTaken.
func (s *Service) AddDomain(ctx context.Context, actor Actor, slug, hostname string) (Domain, error) {
	h, err := s.checkHostname(hostname)
	if err != nil {
		return Domain{}, err
	}
	if !validLabel(slug) {
		return Domain{}, ErrNotFound
	}
	value, err := newVerifyValue()
	if err != nil {
		return Domain{}, err
	}
	now := s.at()
	d := Domain{Hostname: h, Status: DomainPending, CreatedAt: now,
		Verification: TXTRecord{Type: "TXT", Name: VerifyLabel + "." + h, Value: value}}
	raw, err := consensus.Propose(ctx, s.raft, "add domain", cmdDomainAdd, 1, domainRequest{Actor: actor, Slug: slug, Domain: d, At: now})
	if err != nil {
		return Domain{}, err
	}
	return decode[Domain](raw, "add domain")
}

// RemoveDomain removes hostname from the tenant (editor and above); it
// stops being served and any tenant may add it again.
func (s *Service) RemoveDomain(ctx context.Context, actor Actor, slug, hostname string) error {
	h, err := lookupHostname(hostname)
	if err != nil {
		return err
	}
	if !validLabel(slug) {
		return ErrNotFound
	}
	_, err = consensus.Propose(ctx, s.raft, "remove domain", cmdDomainRemove, 1, domainRequest{Actor: actor, Slug: slug, Domain: Domain{Hostname: h}, At: s.at()})
	return err
}

// VerifyDomain looks the domain's TXT record up and records the outcome
// (editor and above): active when a TXT value at its name is the
// verification value, else pending with the reason. hostname may be ""
// when the tenant has exactly one domain. An active domain stays active
// without a lookup: removing the TXT record later does not unserve it.
func (s *Service) VerifyDomain(ctx context.Context, actor Actor, slug, hostname string) (Domain, error) {
	if _, _, err := s.Authorize(ctx, actor, slug, ActConfigure); err != nil {
		return Domain{}, err
	}
	d, err := s.findDomain(slug, hostname)
	if err != nil || d.Status == DomainActive {
		return d, err
	}
	status, reason := s.check(ctx, d.Verification)
	if err := ctx.Err(); err != nil {
		return Domain{}, fmt.Errorf("verify domain: %w", err)
	}
	out := Domain{Hostname: d.Hostname, Status: status, Reason: reason, Verification: d.Verification}
	raw, err := consensus.Propose(ctx, s.raft, "verify domain", cmdDomainCheck, 1, domainRequest{Actor: actor, Slug: slug, Domain: out, At: s.at()})
	if err != nil {
		return Domain{}, err
	}
	return decode[Domain](raw, "verify domain")
}

// findDomain returns slug's domain hostname from local state, or its only
// domain when hostname is "".
func (s *Service) findDomain(slug, hostname string) (Domain, error) {
	if strings.TrimSpace(hostname) == "" {
		ds, err := record.List[Domain](s.state, domainPrefix(slug))
		switch {
		case err != nil:
			return Domain{}, err
		case len(ds) == 0:
			return Domain{}, ErrDomainNotFound
		case len(ds) > 1:
			return Domain{}, ErrHostnameRequired
		}
		return ds[0], nil
	}
	h, err := lookupHostname(hostname)
	if err != nil {
		return Domain{}, err
	}
	if !storedHostname(h) {
		return Domain{}, ErrDomainNotFound
	}
	return record.Get[Domain](s.state, domainPrefix(slug)+h, ErrDomainNotFound)
}

// check looks rec up and returns the status it proves and, when pending,
// why: the reasons never name the resolver's address.
func (s *Service) check(ctx context.Context, rec TXTRecord) (status, reason string) {
	lctx, cancel := context.WithTimeout(ctx, VerifyTimeout)
	defer cancel()
	values, err := s.resolver.LookupTXT(lctx, rec.Name)
	switch {
	case errors.Is(err, ErrNXDomain):
		return DomainPending, "NXDOMAIN: " + rec.Name + " does not exist; publish the TXT record and verify again"
	case errors.Is(err, ErrNoTXT):
		return DomainPending, "no TXT record at " + rec.Name + "; publish the TXT record and verify again"
	case err != nil:
		return DomainPending, "the DNS lookup of " + rec.Name + " failed: " + err.Error() + "; verify again later"
	case !slices.Contains(values, rec.Value):
		return DomainPending, fmt.Sprintf("no matching value: the %d TXT value(s) at %s do not include the verification value", len(values), rec.Name)
	}
	return DomainActive, ""
}

// ActiveDomain returns the tenant's first active custom domain from local
// state (the one verified first; hostname order breaks ties), ok false
// when it has none. An unknown tenant is ErrNotFound. It asks nobody who
// may see it and waits for no read barrier: callers authorize first.
func (s *Service) ActiveDomain(slug string) (hostname string, ok bool, err error) {
	if !validLabel(slug) {
		return "", false, ErrNotFound
	}
	if _, err := Lookup(s.state, slug); err != nil {
		return "", false, err
	}
	ds, err := record.List[Domain](s.state, domainPrefix(slug))
	if err != nil {
		return "", false, fmt.Errorf("active domain: %w", err)
	}
	var first *Domain
	for i, d := range ds {
		if d.Status == DomainActive && d.VerifiedAt != nil && (first == nil || d.VerifiedAt.Before(*first.VerifiedAt)) {
			first = &ds[i]
		}
	}
	if first == nil {
		return "", false, nil
	}
	return first.Hostname, true, nil
}
