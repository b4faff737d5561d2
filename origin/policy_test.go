package origin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
)

func TestAllowedAddr(t *testing.T) {
	cidrs, err := ParseCIDRs([]string{"10.1.0.0/16", "fd12:3456::/32", "192.168.7.7"})
	if err != nil {
		t.Fatal(err)
	}
	strict := Policy{}
	private := Policy{AllowPrivate: true}
	allowList := Policy{AllowCIDRs: cidrs}
	for _, tc := range []struct {
		name, addr             string
		strict, private, allow bool
	}{
		{"IPv4 loopback", "127.0.0.1", false, true, false},
		{"other IPv4 loopback", "127.8.9.10", false, true, false},
		{"IPv6 loopback", "::1", false, true, false},
		{"10/8", "10.0.0.1", false, true, false},
		{"10/8 in allowed prefix", "10.1.2.3", false, true, true},
		{"10/8 just outside allowed prefix", "10.2.0.1", false, true, false},
		{"172.16/12", "172.16.5.4", false, true, false},
		{"172.31 edge", "172.31.255.255", false, true, false},
		{"172.32 is public", "172.32.0.1", true, true, true},
		{"192.168/16", "192.168.1.1", false, true, false},
		{"allowed single address", "192.168.7.7", false, true, true},
		{"next to allowed single address", "192.168.7.8", false, true, false},
		{"cloud metadata", "169.254.169.254", false, true, false},
		{"carrier-grade NAT", "100.64.0.1", false, true, false},
		{"this network", "0.0.0.0", false, true, false},
		{"broadcast", "255.255.255.255", false, true, false},
		{"multicast", "224.0.0.1", false, true, false},
		{"documentation", "192.0.2.1", false, true, false},
		{"unique local", "fc00::1", false, true, false},
		{"unique local fd", "fd00::1", false, true, false},
		{"unique local in allowed prefix", "fd12:3456::1", false, true, true},
		{"link-local IPv6", "fe80::1", false, true, false},
		{"link-local IPv6 with zone", "fe80::1%eth0", false, true, false},
		{"IPv6 unspecified", "::", false, true, false},
		{"IPv6 multicast", "ff02::1", false, true, false},
		{"4in6 loopback", "::ffff:127.0.0.1", false, true, false},
		{"4in6 metadata", "::ffff:169.254.169.254", false, true, false},
		{"4in6 in allowed prefix", "::ffff:10.1.0.1", false, true, true},
		{"4in6 public", "::ffff:8.8.8.8", true, true, true},
		{"NAT64 of loopback", "64:ff9b::7f00:1", false, true, false},
		{"6to4", "2002:7f00:1::1", false, true, false},
		{"public IPv4", "8.8.8.8", true, true, true},
		{"public IPv6", "2606:4700:4700::1111", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := netip.MustParseAddr(tc.addr)
			if got := strict.AllowedAddr(a); got != tc.strict {
				t.Errorf("strict: AllowedAddr(%s) = %v, want %v", a, got, tc.strict)
			}
			if got := private.AllowedAddr(a); got != tc.private {
				t.Errorf("AllowPrivate: AllowedAddr(%s) = %v, want %v", a, got, tc.private)
			}
			if got := allowList.AllowedAddr(a); got != tc.allow {
				t.Errorf("AllowCIDRs: AllowedAddr(%s) = %v, want %v", a, got, tc.allow)
			}
		})
	}
	if (Policy{AllowPrivate: true}).AllowedAddr(netip.Addr{}) {
		t.Errorf("the invalid Addr is allowed")
	}
}

func TestAllowCIDRsMappedPrefix(t *testing.T) {
	p := Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}}
	if !p.AllowedAddr(netip.MustParseAddr("10.9.9.9")) || p.AllowedAddr(netip.MustParseAddr("192.168.0.1")) {
		t.Errorf("an IPv4-mapped prefix does not cover exactly its IPv4 addresses")
	}
}

func TestParseCIDRs(t *testing.T) {
	got, err := ParseCIDRs([]string{" 10.0.0.0/8 ", "fd00::/8", "192.168.1.5", "::ffff:172.16.0.0/108", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("192.168.1.5/32"),
		netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("2001:db8::1/128"),
	}
	if len(got) != len(want) {
		t.Fatalf("ParseCIDRs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ParseCIDRs[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if got, err := ParseCIDRs(nil); err != nil || len(got) != 0 {
		t.Errorf("ParseCIDRs(nil) = %v, %v", got, err)
	}
}

func TestParseCIDRsRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, why string }{
		{"empty", " ", "empty"},
		{"not an address", "intranet", "neither a CIDR"},
		{"bad length", "10.0.0.0/33", "10.0.0.0/33"},
		{"host bits set", "10.1.2.3/8", `did you mean "10.0.0.0/8"`},
		{"zone", "fe80::1%eth0", "zones"},
		{"garbage prefix", "10.0.0/8", "10.0.0/8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCIDRs([]string{"10.0.0.0/8", tc.in})
			if err == nil || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("ParseCIDRs(%q) = %v, want an error mentioning %q", tc.in, err, tc.why)
			}
		})
	}
}

func TestCheckOrigin(t *testing.T) {
	allow10 := Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	for _, tc := range []struct {
		name    string
		policy  Policy
		origin  string
		blocked bool
	}{
		{"public IPv4", Policy{}, "https://8.8.8.8", false},
		{"public IPv6", Policy{}, "https://[2606:4700:4700::1111]:8443", false},
		{"loopback", Policy{}, "http://127.0.0.1:8080", true},
		{"IPv6 loopback", Policy{}, "http://[::1]", true},
		{"4in6 loopback", Policy{}, "http://[::ffff:127.0.0.1]", true},
		{"private", Policy{}, "http://10.1.2.3", true},
		{"metadata", Policy{}, "http://169.254.169.254/latest", true},
		{"localhost resolves to loopback", Policy{}, "http://localhost:3000", true},
		{"private allowed by CIDR", allow10, "http://10.1.2.3", false},
		{"other private not allowed by CIDR", allow10, "http://192.168.0.1", true},
		{"loopback allowed", Policy{AllowPrivate: true}, "http://127.0.0.1:9", false},
		{"localhost allowed", Policy{AllowPrivate: true}, "http://localhost", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseOrigin(tc.origin)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = tc.policy.CheckOrigin(ctx, nil, o)
			if !tc.blocked {
				if err != nil {
					t.Fatalf("CheckOrigin(%s) = %v, want nil", o, err)
				}
				return
			}
			if !errors.Is(err, ErrBlockedAddr) || errkind.KindOf(err) != errkind.Invalid {
				t.Fatalf("CheckOrigin(%s) = %v, want ErrBlockedAddr", o, err)
			}
			if e := errkind.Of(err); e.Message != ErrBlockedAddr.Message {
				t.Errorf("client message = %q, want ErrBlockedAddr's, without the address", e.Message)
			}
			if !strings.Contains(err.Error(), o.Host) {
				t.Errorf("error %q does not name %s", err, o.Host)
			}
		})
	}
}

func TestCheckOriginUnresolvable(t *testing.T) {
	// A resolver whose server refuses every query, so no real DNS is used.
	refused := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		return nil, errors.New("no DNS in this test")
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o := Origin{Scheme: "https", Host: "origin.example.com"}
	err := Policy{}.CheckOrigin(ctx, refused, o)
	checkReason(t, err, ErrBadOrigin, "does not resolve")
	if errors.Is(err, ErrBlockedAddr) {
		t.Errorf("unresolvable origin matches ErrBlockedAddr")
	}

	err = Policy{}.CheckOrigin(ctx, refused, Origin{Scheme: "https"})
	checkReason(t, err, ErrBadOrigin, "no host")

	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if err := (Policy{}).CheckOrigin(cancelled, refused, o); !errors.Is(err, context.Canceled) {
		t.Errorf("CheckOrigin with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestControl(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	for _, tc := range []struct {
		name    string
		policy  Policy
		blocked bool
	}{
		{"strict", Policy{}, true},
		{"other CIDR allowed", Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, true},
		{"loopback CIDR allowed", Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, false},
		{"private allowed", Policy{AllowPrivate: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d := net.Dialer{Control: tc.policy.Control}
			conn, err := d.DialContext(ctx, "tcp", addr)
			if tc.blocked {
				if err == nil {
					conn.Close()
				}
				if !errors.Is(err, ErrBlockedAddr) {
					t.Fatalf("dial %s = %v, want ErrBlockedAddr", addr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial %s: %v", addr, err)
			}
			conn.Close()
		})
	}
}

// TestDialContextRebinding fetches through an http.Transport whose dialer
// is DialContext: a name that resolves to loopback, as a rebinding attacker
// would arrange after CheckOrigin, is refused at connect time.
func TestDialContextRebinding(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	url := "http://localhost:" + port + "/"
	for _, tc := range []struct {
		name    string
		policy  Policy
		blocked bool
	}{
		{"strict", Policy{}, true},
		{"private allowed", Policy{AllowPrivate: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{DialContext: tc.policy.DialContext(5 * time.Second)}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url)
			if tc.blocked {
				if err == nil {
					resp.Body.Close()
				}
				if !errors.Is(err, ErrBlockedAddr) {
					t.Fatalf("GET %s = %v, want ErrBlockedAddr", url, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
			resp.Body.Close()
		})
	}
}
