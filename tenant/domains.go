package tenant

import (
	"errors"
	"strings"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/storage"
)

// Custom domains: a tenant's site is served on hostnames of its own once
// it proves control of each by publishing a DNS TXT record. A hostname
// belongs to at most one tenant in the whole cluster; Apply enforces it
// on committed state, so two racing adds can never both win.
const (
	// MaxDomains bounds a tenant's custom domains, pending and active.
	MaxDomains = 20
	// VerifyLabel is the label the verification TXT record is published
	// under: _rendercache-verify.<hostname>.
	VerifyLabel = "_rendercache-verify"
	// VerifyValuePrefix starts every verification value.
	VerifyValuePrefix = "rendercache-verify="
	// MaxHostnameLen keeps the TXT record's name within DNS's 253
	// characters.
	MaxHostnameLen = 253 - len(VerifyLabel) - 1
	// MaxReason bounds the reason a pending domain carries.
	MaxReason = 256
)

// The statuses of a custom domain.
const (
	// DomainPending is a domain whose TXT record has not been found yet:
	// it is not served.
	DomainPending = "pending"
	// DomainActive is a verified domain: it is served like
	// <slug>.<tenant-domain>.
	DomainActive = "active"
)

var (
	// ErrBadHostname refuses a hostname that is too long for its TXT
	// record's name, or is one of the product's own domains or under one.
	ErrBadHostname = errkind.New(errkind.Invalid, "hostname must be a domain name of your own such as cdn.example.com, at most 233 characters, and not the product's own domains (the tenant and CDN domains or the public URL's host) nor under them")
	// ErrHostnameRequired refuses DELETE domains, or verify on a tenant
	// with several domains, without a hostname.
	ErrHostnameRequired = errkind.New(errkind.Invalid, `"hostname" is required in the body or the query (verify may omit it when the tenant has exactly one domain)`)
	// ErrDomainNotFound means the tenant has no such custom domain.
	ErrDomainNotFound = errkind.New(errkind.NotFound, "domain not found")
	// ErrDomainTaken means a tenant (this one or another) has the
	// hostname already.
	ErrDomainTaken = errkind.New(errkind.Conflict, "hostname already exists")
	// ErrDomainChanged means the domain was removed or added again while
	// it was being verified.
	ErrDomainChanged = errkind.New(errkind.Conflict, "the domain changed while it was being verified; verify it again")
	// ErrTooManyDomains refuses a domain past MaxDomains.
	ErrTooManyDomains = errkind.New(errkind.Forbidden, "this tenant has the maximum of 20 custom domains")
)

// Domain is a tenant's custom domain as stored in raft and returned by
// the domains routes. Verification is the TXT record whose publication
// proves control of Hostname; its value is not a secret (it is published
// in DNS), and a new one is drawn each time the hostname is added.
type Domain struct {
	Hostname     string     `json:"hostname"`
	Status       string     `json:"status"`
	Verification TXTRecord  `json:"verification"`
	Reason       string     `json:"reason,omitempty"`
	CreatedAt    time.Time  `json:"createdAt"`
	CheckedAt    *time.Time `json:"checkedAt,omitempty"`
	VerifiedAt   *time.Time `json:"verifiedAt,omitempty"`
}

// TXTRecord is the DNS record a domain's owner publishes.
type TXTRecord struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// hostRef is the cluster-wide index of hostnames: which tenant has one,
// and whether it is served.
type hostRef struct {
	Slug   string `json:"slug"`
	Active bool   `json:"active"`
}

const (
	prefixDomain = "tenant-domain/" // tenant-domain/<slug>/<hostname> → Domain
	prefixHost   = "tenant-host/"   // tenant-host/<hostname> → hostRef
)

const (
	cmdDomainAdd    = "tenant.domain-add"
	cmdDomainRemove = "tenant.domain-remove"
	cmdDomainCheck  = "tenant.domain-check"
)

func domainPrefix(slug string) string { return prefixDomain + slug + "/" }

func registerDomains(fsm *consensus.FSM) {
	fsm.Register(cmdDomainAdd, applyDomainAdd)
	fsm.Register(cmdDomainRemove, applyDomainRemove)
	fsm.Register(cmdDomainCheck, applyDomainCheck)
}

func init() {
	// A deleted tenant's hostnames are free again.
	onDelete = append(onDelete, func(tx *storage.Tx, slug string) error {
		ds, err := record.List[Domain](tx, domainPrefix(slug))
		if err != nil {
			return err
		}
		for _, d := range ds {
			if err := tx.Delete([]byte(prefixHost + d.Hostname)); err != nil {
				return err
			}
		}
		return record.DeletePrefix(tx, domainPrefix(slug))
	})
}

// domainRequest is every domain command: Domain carries the hostname,
// and for add the whole new record, for check the outcome and the value
// that was looked up.
type domainRequest struct {
	Actor  Actor     `json:"actor"`
	Slug   string    `json:"slug"`
	Domain Domain    `json:"domain"`
	At     time.Time `json:"at"`
}

// storedHostname reports whether h may be a state key: a hostname in
// NormalizeHost's form within MaxHostnameLen.
func storedHostname(h string) bool {
	n, err := origin.NormalizeHost(h)
	return err == nil && n == h && len(h) <= MaxHostnameLen
}

func applyDomainAdd(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req domainRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, _, err := authorize(tx, req.Slug, req.Actor, ActConfigure)
	if err != nil {
		return nil, err
	}
	d := req.Domain
	if !storedHostname(d.Hostname) || len(d.Verification.Value) > 128 {
		return nil, ErrBadHostname
	}
	if n, err := record.Count(tx, domainPrefix(t.Slug)); err != nil {
		return nil, err
	} else if n >= MaxDomains {
		return nil, ErrTooManyDomains
	}
	if err := releaseLapsed(tx, d.Hostname, req.At); err != nil {
		return nil, err
	}
	if taken, err := record.Exists(tx, prefixHost+d.Hostname); err != nil {
		return nil, err
	} else if taken {
		return nil, ErrDomainTaken
	}
	if err := record.Put(tx, domainPrefix(t.Slug)+d.Hostname, d); err != nil {
		return nil, err
	}
	if err := record.Put(tx, prefixHost+d.Hostname, hostRef{Slug: t.Slug}); err != nil {
		return nil, err
	}
	return d, audit(tx, t.Slug, "domain.add", req.Actor, d.Hostname, nil, req.At)
}

// PendingTTL is how long a pending domain holds its hostname against
// other adds: an unverified claim older than this lapses when anyone
// (another tenant, or the same one again) adds the hostname, so a
// hostname cannot be squatted by adding it and never verifying it.
const PendingTTL = 7 * 24 * time.Hour

// releaseLapsed removes host's pending record if it was added more than
// PendingTTL before at (the adding command's time, so every replica
// decides alike), and records the lapse in its tenant's audit log.
func releaseLapsed(tx *storage.Tx, host string, at time.Time) error {
	ref, err := record.Get[hostRef](tx, prefixHost+host, ErrDomainNotFound)
	if errors.Is(err, ErrDomainNotFound) || err == nil && ref.Active {
		return nil
	}
	if err != nil {
		return err
	}
	key := domainPrefix(ref.Slug) + host
	d, err := record.Get[Domain](tx, key, ErrDomainNotFound)
	switch {
	case errors.Is(err, ErrDomainNotFound):
		return nil // the index alone: the hostname stays taken
	case err != nil:
		return err
	case d.Status != DomainPending || at.Sub(d.CreatedAt) <= PendingTTL:
		return nil // the claim stands
	}
	if err := tx.Delete([]byte(key)); err != nil {
		return err
	}
	if err := tx.Delete([]byte(prefixHost + host)); err != nil {
		return err
	}
	// The event names no actor: who added the hostname again is another
	// account's business.
	return audit(tx, ref.Slug, "domain.lapse", Actor{AccountID: "system"}, host,
		map[string]string{"reason": "pending for more than 7 days, and the hostname was added again"}, at)
}

// ownDomain returns host's record in slug, after authorizing actor for a.
func ownDomain(r record.Reader, actor Actor, slug, host string, a Action) (Tenant, Domain, error) {
	t, _, err := authorize(r, slug, actor, a)
	if err != nil {
		return Tenant{}, Domain{}, err
	}
	if !storedHostname(host) {
		return Tenant{}, Domain{}, ErrDomainNotFound
	}
	d, err := record.Get[Domain](r, domainPrefix(slug)+host, ErrDomainNotFound)
	return t, d, err
}

func applyDomainRemove(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req domainRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, d, err := ownDomain(tx, req.Actor, req.Slug, req.Domain.Hostname, ActConfigure)
	if err != nil {
		return nil, err
	}
	if err := tx.Delete([]byte(domainPrefix(t.Slug) + d.Hostname)); err != nil {
		return nil, err
	}
	if err := tx.Delete([]byte(prefixHost + d.Hostname)); err != nil {
		return nil, err
	}
	return nil, audit(tx, t.Slug, "domain.remove", req.Actor, d.Hostname, nil, req.At)
}

// applyDomainCheck records a verification's outcome, if the record still
// has the value that was looked up. An active domain stays active.
func applyDomainCheck(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req domainRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, d, err := ownDomain(tx, req.Actor, req.Slug, req.Domain.Hostname, ActConfigure)
	if errors.Is(err, ErrDomainNotFound) {
		return nil, ErrDomainChanged
	}
	if err != nil {
		return nil, err
	}
	if d.Verification.Value != req.Domain.Verification.Value {
		return nil, ErrDomainChanged
	}
	if d.Status == DomainActive {
		return d, nil
	}
	at := req.At
	d.CheckedAt, d.Reason = &at, truncate(req.Domain.Reason, MaxReason)
	if req.Domain.Status == DomainActive {
		d.Status, d.Reason, d.VerifiedAt = DomainActive, "", &at
		if err := record.Put(tx, prefixHost+d.Hostname, hostRef{Slug: t.Slug, Active: true}); err != nil {
			return nil, err
		}
		if err := audit(tx, t.Slug, "domain.verify", req.Actor, d.Hostname, nil, at); err != nil {
			return nil, err
		}
	} else if err := audit(tx, t.Slug, "domain.verify-failed", req.Actor, d.Hostname, map[string]string{"reason": d.Reason}, at); err != nil {
		return nil, err
	}
	return d, record.Put(tx, domainPrefix(t.Slug)+d.Hostname, d)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// ActiveHost returns the tenant whose active custom domain host is, from
// r (local state), without asking who may see it: for the data plane,
// which serves a tenant's hosts to anyone. A pending or unknown host is
// ErrDomainNotFound.
func ActiveHost(r record.Reader, host string) (Tenant, error) {
	ref, err := record.Get[hostRef](r, prefixHost+host, ErrDomainNotFound)
	if err != nil {
		return Tenant{}, err
	}
	if !ref.Active {
		return Tenant{}, ErrDomainNotFound
	}
	return Lookup(r, ref.Slug)
}
