package tenantcheck

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rendercache/rendercache/origin"
)

// Domains gives a tenant's active (verified) custom domain:
// tenant.Service.ActiveDomain. ok is false when the tenant has none.
type Domains interface {
	ActiveDomain(slug string) (hostname string, ok bool, err error)
}

// Config wires a Checker. Zero durations and sizes take the defaults
// documented on each field.
type Config struct {
	// TenantDomain is --tenant-domain: a tenant's preview host is
	// <slug>.<TenantDomain>.
	TenantDomain string
	// ProductDomains are further suffixes that belong to the product
	// (--cdn-domain, the --public-url host): the website check refuses
	// them, with TenantDomain, because it checks the customer's own site.
	ProductDomains []string
	// PublicURL is --public-url. Its scheme and port are those of every
	// probe URL, previews and custom domains alike: both reach the cluster
	// through the same front door as the public URL. Default: http and
	// Self's port.
	PublicURL string
	// Self returns this node's public listener address (host:port); nil
	// probes previews through public DNS and Policy instead.
	// Preview probes dial it with the preview host as Host, so that they
	// need no public DNS for <slug>.<TenantDomain> (a self-hosted cluster
	// often has none) and no TLS: they prove the cluster serves the host,
	// not that DNS points at it. Custom domains are resolved and dialed
	// like any origin, through Policy, as a visitor reaches them.
	Self func() string
	// Domains gives active custom domains; nil: tenants have none.
	Domains Domains
	// Policy guards every connection but the preview probes' (which go to
	// this node): custom-domain probes and the website fetch.
	Policy origin.Policy
	// Resolver resolves custom domains and checked sites; nil:
	// net.DefaultResolver.
	Resolver *net.Resolver
	// ProbeTimeout bounds one probe. Default 5s (two probes stay under
	// the API's 15s request deadline).
	ProbeTimeout time.Duration
	// FetchTimeout bounds the website fetch, redirects included. Default
	// 10s.
	FetchTimeout time.Duration
	// MaxBody is the most of a page the website check reads and scans.
	// Default 2 MiB; the rest is not read.
	MaxBody int64
	// MaxRedirects bounds the redirects the website fetch follows.
	// Default 5.
	MaxRedirects int
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Checker runs both checks. Safe for concurrent use.
type Checker struct {
	cfg    Config
	log    *slog.Logger
	scheme string // probe URLs' scheme and ":port" ("" for the default)
	port   string
	self   *http.Client // preview probes: dial this node
	probe  *http.Client // custom-domain probes: SSRF-guarded
	site   *http.Client // the website fetch: SSRF-guarded, bounded redirects
}

// New returns a Checker. It fails only on a PublicURL that does not parse.
func New(cfg Config) (*Checker, error) {
	if cfg.ProbeTimeout <= 0 {
		cfg.ProbeTimeout = 5 * time.Second
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = 10 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 2 << 20
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Checker{cfg: cfg, log: cfg.Logger.With("subsystem", "tenant-check"), scheme: "http"}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("tenant check: public URL %q must be an http(s) URL", cfg.PublicURL)
		}
		c.scheme, c.port = u.Scheme, u.Port()
	} else if cfg.Self != nil {
		if _, p, err := net.SplitHostPort(cfg.Self()); err == nil && p != "80" {
			c.port = p
		}
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	selfTr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, cfg.Self())
		},
		ResponseHeaderTimeout: cfg.ProbeTimeout,
		DisableKeepAlives:     true,
	}
	c.self = &http.Client{Transport: selfTr, CheckRedirect: noRedirect}
	c.probe = &http.Client{Transport: c.guarded(cfg.ProbeTimeout), CheckRedirect: noRedirect}
	c.site = &http.Client{Transport: c.guarded(cfg.FetchTimeout), CheckRedirect: c.checkRedirect}
	return c, nil
}

// guarded is origin.Policy's transport, resolving with cfg.Resolver,
// without keep-alives.
func (c *Checker) guarded(header time.Duration) *http.Transport {
	tr := c.cfg.Policy.Transport(header)
	// A check is a one-off: each request dials afresh, so that it sees
	// the DNS of now and leaves no idle connection behind.
	tr.DisableKeepAlives = true
	if c.cfg.Resolver != nil {
		d := &net.Dialer{Timeout: 10 * time.Second, Control: c.cfg.Policy.Control, Resolver: c.cfg.Resolver}
		tr.DialContext = d.DialContext
	}
	return tr
}

// Close drops idle connections.
func (c *Checker) Close() {
	for _, cl := range []*http.Client{c.self, c.probe, c.site} {
		cl.CloseIdleConnections()
	}
}

// previewHost is a tenant's host under the tenant domain.
func (c *Checker) previewHost(slug string) string { return slug + "." + c.cfg.TenantDomain }

// probeURL is the URL a visitor types for host: the public URL's scheme
// and port.
func (c *Checker) probeURL(host string) string {
	if c.port != "" && !(c.scheme == "https" && c.port == "443") && !(c.scheme == "http" && c.port == "80") {
		host = net.JoinHostPort(host, c.port)
	}
	return c.scheme + "://" + host + "/"
}

// productHost reports whether host (lower case, no port) is one of the
// product's own: under the tenant domain or a product domain.
func (c *Checker) productHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, d := range append([]string{c.cfg.TenantDomain}, c.cfg.ProductDomains...) {
		d = strings.ToLower(d)
		if d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
			return true
		}
	}
	return false
}

// activeDomain is the tenant's active custom domain, if any; err when
// the domains could not be read.
func (c *Checker) activeDomain(slug string) (string, error) {
	if c.cfg.Domains == nil {
		return "", nil
	}
	h, ok, err := c.cfg.Domains.ActiveDomain(slug)
	if err != nil {
		c.log.Warn("custom domains unreadable", "tenant", slug, "err", err)
		return "", fmt.Errorf("active domain: %w", err)
	}
	if !ok {
		return "", nil
	}
	return h, nil
}
