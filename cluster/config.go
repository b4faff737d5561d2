package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/rendercache/rendercache/internal/netfault"
)

// Profiles accepted in Config.Profile.
const (
	profileLAN   = "lan"
	profileLocal = "local"
)

// Config configures a Cluster. The zero value is not valid: Name and
// BindAddr are required.
type Config struct {
	// Name is the node's unique name in the cluster. Required.
	Name string
	// BindAddr is the gossip address (TCP and UDP), an IP literal and a
	// concrete port such as "127.0.0.1:8083". Port 0 is rejected: other
	// nodes and the peers file need the real port.
	BindAddr string
	// AdvertiseAddr is the gossip address other nodes should use. Default:
	// BindAddr. Required when BindAddr's IP is unspecified (0.0.0.0).
	AdvertiseAddr string
	// Key is a 16, 24 or 32-byte AES key encrypting all gossip. Nodes with
	// different keys cannot join each other. Nil or empty: unencrypted.
	Key []byte
	// Meta is gossiped to every node; it must encode (JSON) to at most
	// 512 bytes.
	Meta Meta
	// Join lists gossip addresses (host:port) to join. Joining is retried
	// in the background until another member is seen. Default: none.
	Join []string
	// PeersFile, if set, is where the gossip addresses of known peers are
	// kept (JSON), rewritten on every membership change, so a restarted
	// node rejoins without Join. Default: not persisted.
	PeersFile string
	// Profile picks memberlist's timing: "lan" (default,
	// memberlist.DefaultLANConfig) or "local" (DefaultLocalConfig with
	// tighter probing for tests on loopback: a killed node is declared
	// dead in about 1-2s).
	Profile string
	// Logger receives the cluster's and memberlist's logs. Default:
	// slog.Default().
	Logger *slog.Logger
	// Faults, if non-nil, filters gossip traffic for partition tests. The
	// caller registers this node's gossip address with it. Default: nil
	// (production).
	Faults *netfault.Injector
}

// Validate reports every problem with c, each wrapped with
// ErrInvalidConfig and joined with errors.Join; nil means c is usable.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Name == "" {
		bad("Name is required: every node needs a unique name")
	}
	bindIP, err := parseGossipAddr(c.BindAddr)
	if err != nil {
		bad("BindAddr %q: %v", c.BindAddr, err)
	}
	if c.AdvertiseAddr != "" {
		advIP, err := parseGossipAddr(c.AdvertiseAddr)
		if err != nil {
			bad("AdvertiseAddr %q: %v", c.AdvertiseAddr, err)
		} else if advIP.IsUnspecified() {
			bad("AdvertiseAddr %q: other nodes cannot reach an unspecified IP", c.AdvertiseAddr)
		}
	} else if bindIP != nil && bindIP.IsUnspecified() {
		bad("AdvertiseAddr is required when BindAddr %q listens on all interfaces", c.BindAddr)
	}
	switch len(c.Key) {
	case 0, 16, 24, 32:
	default:
		bad("Key is %d bytes; AES needs 16, 24 or 32 (or none for no encryption)", len(c.Key))
	}
	if _, err := encodeMeta(c.Meta); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidConfig, err))
	}
	for _, j := range c.Join {
		if _, _, err := net.SplitHostPort(j); err != nil {
			bad("Join address %q is not host:port: %v", j, err)
		}
	}
	switch c.Profile {
	case "", profileLAN, profileLocal:
	default:
		bad("Profile %q is unknown; use %q or %q", c.Profile, profileLAN, profileLocal)
	}
	return errors.Join(errs...)
}

// parseGossipAddr checks that addr is "IP:port" with a port in 1..65535.
func parseGossipAddr(addr string) (net.IP, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("not host:port: %w", err)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, fmt.Errorf("host %q must be an IP literal (memberlist binds and advertises IPs, not names)", host)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return nil, fmt.Errorf("port %q must be 1-65535 (0 is not allowed: peers need the concrete port)", port)
	}
	return ip, nil
}

// encodeMeta returns m as gossiped, or ErrMetaTooLarge.
func encodeMeta(m Meta) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("cluster: encode meta: %w", err)
	}
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("meta encodes to %d bytes, over the %d-byte limit: %w", len(b), memberlist.MetaMaxSize, ErrMetaTooLarge)
	}
	return b, nil
}

// timing holds the cluster's own loop intervals for a profile.
type timing struct {
	retryMin, retryMax time.Duration // join backoff while alone
	reconnect          time.Duration // re-join dead peers while not alone
	leaveIntentWait    time.Duration // max wait for the leave intent to spread
}

// memberlistConfig maps c onto a memberlist config for its profile. The
// caller fills in the transport, delegates and logger.
func (c Config) memberlistConfig() (*memberlist.Config, timing, error) {
	var mc *memberlist.Config
	t := timing{retryMin: time.Second, retryMax: 5 * time.Second, reconnect: 10 * time.Second, leaveIntentWait: 2 * time.Second}
	if c.Profile == profileLocal {
		mc = memberlist.DefaultLocalConfig()
		// A dead node on loopback is probed within ~2 intervals, suspected
		// after ProbeTimeout plus indirect probes, and declared dead
		// SuspicionMult*ProbeInterval (1.2s) later if another node
		// confirms, else after SuspicionMaxTimeoutMult times that (2.4s).
		// The probe timeout leaves room for test machines whose cores are
		// busy with race-instrumented nodes and Chromium: a false death
		// moves cache keys and raft voters for nothing.
		mc.ProbeInterval = 400 * time.Millisecond
		mc.ProbeTimeout = 300 * time.Millisecond
		mc.SuspicionMult = 3
		mc.SuspicionMaxTimeoutMult = 2
		mc.GossipInterval = 50 * time.Millisecond
		mc.PushPullInterval = 5 * time.Second
		mc.GossipToTheDeadTime = 5 * time.Second
		t = timing{retryMin: 250 * time.Millisecond, retryMax: 2 * time.Second, reconnect: 2 * time.Second, leaveIntentWait: time.Second}
	} else {
		mc = memberlist.DefaultLANConfig()
	}
	mc.Name = c.Name
	bindHost, bindPort, err := splitHostPort(c.BindAddr)
	if err != nil {
		return nil, t, err
	}
	mc.BindAddr, mc.BindPort = bindHost, bindPort
	adv := c.AdvertiseAddr
	if adv == "" {
		adv = c.BindAddr
	}
	if mc.AdvertiseAddr, mc.AdvertisePort, err = splitHostPort(adv); err != nil {
		return nil, t, err
	}
	if len(c.Key) > 0 {
		mc.SecretKey = append([]byte(nil), c.Key...)
	}
	return mc, t, nil
}

func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", 0, err
	}
	return host, p, nil
}
