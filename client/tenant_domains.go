package client

import (
	"context"
	"net/http"
	"time"
)

// TenantDomainTXT is the DNS record that verifies a custom domain:
// publish Value as a TXT record at Name.
type TenantDomainTXT struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TenantDomain is a tenant's custom domain. Status is "pending" until a
// verify finds the TXT record (Reason says why not), then "active": the
// cluster serves the host as the tenant's.
type TenantDomain struct {
	Hostname     string          `json:"hostname"`
	Status       string          `json:"status"`
	Verification TenantDomainTXT `json:"verification"`
	Reason       string          `json:"reason,omitempty"`
	CreatedAt    time.Time       `json:"createdAt"`
	CheckedAt    *time.Time      `json:"checkedAt,omitempty"`
	VerifiedAt   *time.Time      `json:"verifiedAt,omitempty"`
}

type tenantHostname struct {
	Hostname string `json:"hostname"`
}

func domainsPath(slug string) string { return tenantPath(slug) + "/domains" }

// TenantDomains lists a tenant's custom domains with their statuses.
func (c *Client) TenantDomains(ctx context.Context, slug string) ([]TenantDomain, error) {
	var out struct {
		Domains []TenantDomain `json:"domains"`
	}
	err := c.call(ctx, request{method: http.MethodGet, path: domainsPath(slug), auth: c.session()}, &out)
	return out.Domains, err
}

// AddTenantDomain adds hostname to the tenant, pending: the answer holds
// the TXT record to publish before VerifyTenantDomain.
func (c *Client) AddTenantDomain(ctx context.Context, slug, hostname string) (TenantDomain, error) {
	var out TenantDomain
	return out, c.call(ctx, request{method: http.MethodPost, path: domainsPath(slug), auth: c.session(), body: tenantHostname{hostname}}, &out)
}

// RemoveTenantDomain removes a custom domain; the cluster stops serving
// it before this returns.
func (c *Client) RemoveTenantDomain(ctx context.Context, slug, hostname string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: domainsPath(slug), auth: c.session(), body: tenantHostname{hostname}}, nil)
}

// VerifyTenantDomain looks the domain's TXT record up and returns the
// domain with its new status; hostname may be "" when the tenant has
// exactly one domain. A domain left pending is not an error: its Reason
// says why.
func (c *Client) VerifyTenantDomain(ctx context.Context, slug, hostname string) (TenantDomain, error) {
	var out TenantDomain
	req := request{method: http.MethodPost, path: domainsPath(slug) + "/verify", auth: c.session()}
	if hostname != "" {
		req.body = tenantHostname{hostname}
	}
	return out, c.call(ctx, req, &out)
}
