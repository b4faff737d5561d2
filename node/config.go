package node

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/rendercache/rendercache/internal/netfault"
	"github.com/rendercache/rendercache/internal/seal"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/page"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/render"
)

// Config configures one node. Build it with Default and check it with
// Validate; cmd/rendercache fills it from flags and environment.
type Config struct {
	// Name is the node's unique name in the cluster. Default: the host
	// name.
	Name string
	// DataDir holds Pebble state and raft snapshots. Default ./data.
	DataDir string
	// HTTPAddr is the public API listener. Default 127.0.0.1:8080.
	HTTPAddr string
	// InternalAddr is the node-to-node listener (forwarding, cache peers),
	// authenticated with the cluster key. Default 127.0.0.1:8081.
	InternalAddr string
	// RaftAddr is raft's TCP listener. Default 127.0.0.1:8082.
	RaftAddr string
	// GossipAddr is memberlist's TCP+UDP listener. It needs a concrete
	// port. Default 127.0.0.1:8083.
	GossipAddr string
	// Join lists gossip addresses of existing members. A node with an empty
	// data dir and no Join bootstraps a new cluster.
	Join []string
	// Voters is how many raft voters the cluster keeps. Default 3.
	Voters int
	// DeadNodeTimeout is how long a failed node stays in the raft
	// configuration. Default 30s.
	DeadNodeTimeout time.Duration
	// ClusterKey (32 bytes) encrypts gossip and authenticates internal
	// RPC. Nodes with different keys cannot join each other.
	ClusterKey []byte
	// AdminToken is the operator's token. Empty: on first bootstrap a token
	// is generated, handed to OnAdminToken once and stored hashed.
	AdminToken string
	// OnAdminToken receives a generated admin token; it is never logged.
	OnAdminToken func(token string)
	// Plans is the plan catalog. Default plan.Defaults().
	Plans plan.Catalog
	// TrailingLogs is how many raft entries survive a snapshot; 0 keeps
	// raft's default. Tests lower it to force snapshot installs.
	TrailingLogs uint64
	// AllowPrivateOrigins lets domains use origins on private, loopback and
	// link-local addresses (development and tests).
	AllowPrivateOrigins bool
	// AllowOriginCIDRs allows origins in these networks even when private,
	// for self-hosted origins on an internal network.
	AllowOriginCIDRs []netip.Prefix
	// KeyTouchInterval is how often API keys' last-use times are
	// replicated. Default 30s.
	KeyTouchInterval time.Duration
	// ChromePath is the Chromium binary; "" finds chromium on PATH.
	ChromePath string
	// RenderConcurrency bounds concurrent renders. Default: the number of
	// CPUs.
	RenderConcurrency int
	// RenderTimeout caps one render. Default 20s.
	RenderTimeout time.Duration
	// RenderMemoryLimit is Chromium's memory ceiling in bytes; past it the
	// browser is replaced between renders. Default
	// render.DefaultMemoryLimit (0 means the same); negative disables it.
	RenderMemoryLimit int64
	// Renderer, when set, renders instead of a Chromium the node starts
	// itself; testcluster shares one browser between its nodes this way.
	// The node does not close it.
	Renderer page.Renderer
	// CacheBytes bounds the in-memory page cache. Default 256 MiB.
	CacheBytes int64
	// L2Bytes bounds the on-disk page store. Default 1 GiB.
	L2Bytes int64
	// HotBytes bounds the hot map: the decoded, ready-to-write answers
	// every node keeps in front of the cache, so that a hit is a map
	// lookup and one write. Default 64 MiB.
	HotBytes int64
	// UsageReportInterval is how often the node reports its render counts
	// through raft; the cluster's quota totals lag by about this much.
	// Default 10s.
	UsageReportInterval time.Duration
	// CDNDomain is the suffix zones are served under:
	// <zone>.<CDNDomain>. Default cdn.localhost.
	CDNDomain string
	// AssetMaxBytes is the largest zone asset that is cached; larger ones
	// stream from the origin uncached. Default 16 MiB.
	AssetMaxBytes int64
	// EncryptionKey (32 bytes) is the data key that seals tenant webhook
	// secrets and CMS API tokens at rest. Empty: derived from ClusterKey
	// with HKDF, so the cluster key then also unlocks those secrets.
	EncryptionKey []byte
	// PublicURL is the base of URLs the API hands out (cache-refresh
	// webhook URLs). Default: http://<HTTPAddr>.
	PublicURL string
	// TenantDomain is the suffix tenants are served under:
	// <slug>.<TenantDomain>. Default tenants.localhost.
	TenantDomain string
	// SMTPAddr is the host:port of an SMTP relay for invite emails; empty
	// sends none (invites answer emailSent false).
	SMTPAddr string
	// SMTPFrom is the sender of invite emails. Default
	// rendercache@<TenantDomain>.
	SMTPFrom string
	// DNSResolver is the host:port of the DNS server that custom-domain
	// verification asks for TXT records; empty asks the system's
	// nameservers (/etc/resolv.conf).
	DNSResolver string
	// Fast uses short raft and gossip timings meant for loopback test
	// clusters.
	Fast bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Faults injects partitions into every transport; nil in production.
	Faults *netfault.Injector
	// WrapPublic, when set, wraps the public listener's handler: a hook
	// for programs that embed a node (middleware of their own) and for
	// tests (testcluster checks all traffic against the OpenAPI contract
	// through it). Nil in production.
	WrapPublic func(http.Handler) http.Handler
}

// Default returns the settings of `rendercache serve` with no flags.
func Default() Config {
	return Config{
		DataDir:           "./data",
		HTTPAddr:          "127.0.0.1:8080",
		InternalAddr:      "127.0.0.1:8081",
		RaftAddr:          "127.0.0.1:8082",
		GossipAddr:        "127.0.0.1:8083",
		Voters:            3,
		DeadNodeTimeout:   30 * time.Second,
		Plans:             plan.Defaults(),
		KeyTouchInterval:  30 * time.Second,
		RenderTimeout:     20 * time.Second,
		RenderMemoryLimit: render.DefaultMemoryLimit,
		CacheBytes:        256 << 20,
		L2Bytes:           1 << 30,
		HotBytes:          64 << 20,

		UsageReportInterval: 10 * time.Second,
		CDNDomain:           "cdn.localhost",
		AssetMaxBytes:       16 << 20,
		TenantDomain:        "tenants.localhost",
	}
}

// ClusterKeySize is the length of a cluster key in bytes (AES-256).
const ClusterKeySize = 32

// ParseClusterKey decodes a base64 cluster key as printed by `rendercache
// keygen`.
func ParseClusterKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("cluster key is not base64: %w", err)
	}
	if len(k) != ClusterKeySize {
		return nil, fmt.Errorf("cluster key must decode to %d bytes, got %d (generate one with `rendercache keygen`)", ClusterKeySize, len(k))
	}
	return k, nil
}

// Validate explains every setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir is required"))
	}
	for flag, a := range map[string]string{"http-addr": c.HTTPAddr, "internal-addr": c.InternalAddr, "raft-addr": c.RaftAddr, "gossip-addr": c.GossipAddr} {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("%s %q must be host:port: %w", flag, a, err))
		}
	}
	if _, port, err := net.SplitHostPort(c.GossipAddr); err == nil && port == "0" {
		errs = append(errs, errors.New("gossip-addr needs a concrete port, not 0"))
	}
	if len(c.ClusterKey) != ClusterKeySize {
		errs = append(errs, fmt.Errorf("cluster key must be %d bytes, got %d", ClusterKeySize, len(c.ClusterKey)))
	}
	if c.Voters < 1 {
		errs = append(errs, fmt.Errorf("voters must be at least 1, got %d", c.Voters))
	}
	if _, err := origin.NormalizeHost(c.CDNDomain); err != nil {
		errs = append(errs, fmt.Errorf("cdn-domain %q must be a host name: %w", c.CDNDomain, err))
	}
	if _, err := origin.NormalizeHost(c.TenantDomain); err != nil {
		errs = append(errs, fmt.Errorf("tenant-domain %q must be a host name: %w", c.TenantDomain, err))
	}
	if n := len(c.EncryptionKey); n != 0 && n != seal.KeySize {
		errs = append(errs, fmt.Errorf("encryption key must be %d bytes, got %d", seal.KeySize, n))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public-url %q must be an http(s) URL such as https://cache.example.com", c.PublicURL))
		}
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("smtp-addr %q must be host:port: %w", c.SMTPAddr, err))
		}
	}
	if c.DNSResolver != "" {
		if _, _, err := net.SplitHostPort(c.DNSResolver); err != nil {
			errs = append(errs, fmt.Errorf("dns-resolver %q must be host:port: %w", c.DNSResolver, err))
		}
	}
	if c.AssetMaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("asset-max-bytes must be positive, got %d", c.AssetMaxBytes))
	}
	if c.KeyTouchInterval <= 0 {
		errs = append(errs, errors.New("key touch interval must be positive"))
	}
	if c.RenderTimeout <= 0 {
		errs = append(errs, errors.New("render timeout must be positive"))
	}
	if c.RenderConcurrency < 0 {
		errs = append(errs, errors.New("render concurrency must not be negative"))
	}
	if c.UsageReportInterval <= 0 {
		errs = append(errs, errors.New("usage report interval must be positive"))
	}
	if c.CacheBytes <= 0 || c.L2Bytes <= 0 || c.HotBytes <= 0 {
		errs = append(errs, errors.New("cache, hot map and L2 sizes must be positive"))
	}
	if c.DeadNodeTimeout <= 0 {
		errs = append(errs, errors.New("dead node timeout must be positive"))
	}
	if err := c.Plans.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("node: config: %w", err)
	}
	return nil
}
