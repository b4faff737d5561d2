package node

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/httpapi/tenants"
	"github.com/rendercache/rendercache/internal/seal"
	"github.com/rendercache/rendercache/operator"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/tenant"
	"github.com/rendercache/rendercache/tenant/invitemail"
	"github.com/rendercache/rendercache/tenantproxy"
)

// registerTenantAPI creates the tenant service with its data key
// (--encryption-key, else HKDF of the cluster key) and adds the tenants
// routes to api, and the surface that serves tenants' hosts.
func (n *Node) registerTenantAPI(api *httpapi.Router, keys *apikey.Service, policy origin.Policy) error {
	key := n.cfg.EncryptionKey
	if len(key) == 0 {
		var err error
		if key, err = seal.DeriveKey(n.cfg.ClusterKey); err != nil {
			return fmt.Errorf("tenant data key: %w", err)
		}
	}
	box, err := seal.New(key)
	if err != nil {
		return fmt.Errorf("tenant data key: %w", err)
	}
	n.tenants = tenant.NewService(n.settlingRaft(), n.db.State(), tenant.Options{Policy: policy, Box: box, TenantDomain: n.cfg.TenantDomain,
		Resolver: tenant.NewResolver(n.cfg.DNSResolver), ProductDomains: n.productDomains()})
	// The tenant hosts' surface (served by edge, its "api" and "site"
	// groups by the peer handler).
	n.sites = tenantproxy.New(tenantproxy.Config{
		State:        n.db.State(),
		Applied:      n.db.State().AppliedIndex,
		TenantDomain: n.cfg.TenantDomain,
		Tokens:       n.tenants,
		Fresh:        n.raft.Fresh,
		Ring:         n.ring,
		Client:       n.peerClient(2 * time.Minute),
		Bytes:        n.cfg.CacheBytes,
		MaxObject:    n.cfg.AssetMaxBytes,
		Policy:       policy,
		Node:         n.cfg.Name,
		Prerender:    n.prerenderSite,
		Logger:       n.log,
		Observer:     n.traffic,
	})
	publicURL := n.cfg.PublicURL
	if publicURL == "" {
		publicURL = "http://" + n.HTTPAddr()
	}
	deps := tenants.Deps{
		Keys:      keys,
		Plans:     n.cfg.Plans,
		Admin:     operator.NewAuth(n.db.State(), n.cfg.AdminToken),
		Tenants:   n.tenants,
		PublicURL: strings.TrimSuffix(publicURL, "/"),
	}
	deps.Traffic = n.traffic
	if n.cfg.SMTPAddr != "" {
		deps.Mailer = invitemail.New(invitemail.Config{Addr: n.cfg.SMTPAddr, From: n.cfg.SMTPFrom, TenantDomain: n.cfg.TenantDomain})
	}
	if deps.Checks, err = n.newChecks(policy); err != nil {
		return err
	}
	tenants.Register(api, deps)
	return nil
}

// productDomains are the hosts, besides --tenant-domain, that the node
// serves itself and no tenant's custom domain may take: --cdn-domain and
// the host of --public-url.
func (n *Node) productDomains() []string {
	out := []string{n.cfg.CDNDomain}
	if u, err := url.Parse(n.cfg.PublicURL); err == nil && u.Hostname() != "" {
		out = append(out, u.Hostname())
	}
	return out
}
