package origin

import (
	"errors"
	"testing"
)

func TestRegistrableHost(t *testing.T) {
	strict, private := Policy{}, Policy{AllowPrivate: true}
	for _, tc := range []struct {
		name, in string
		// want is the canonical name under the private policy; "" means
		// refused by both policies.
		want string
		// strictOK means the strict policy accepts it too.
		strictOK bool
		// why is in the refusal's message.
		why string
	}{
		{"public", "Shop.Example.COM.", "shop.example.com", true, ""},
		{"example.com is public", "example.com", "example.com", true, ""},
		{"example.org is public", "www.example.org", "www.example.org", true, ""},
		{"look-alike suffix", "mylocal.com", "mylocal.com", true, ""},
		{"special label not last", "local.example.com", "local.example.com", true, ""},
		{"arpa not last", "arpa.example.net", "arpa.example.net", true, ""},
		{"IDN public", "bücher.de", "xn--bcher-kva.de", true, ""},
		{"localhost", "x.localhost", "x.localhost", false, ".localhost"},
		{"localhost upper case, trailing dot", "App.LOCALHOST.", "app.localhost", false, ".localhost"},
		{"localhost full-width", "ａｐｐ.ｌｏｃａｌｈｏｓｔ", "app.localhost", false, ".localhost"},
		{"mDNS", "x.local", "x.local", false, ".local"},
		{"cloud metadata", "metadata.google.internal", "metadata.google.internal", false, ".internal"},
		{"home.arpa", "nas.home.arpa", "nas.home.arpa", false, ".home.arpa"},
		{"test", "www.shop.test", "www.shop.test", false, ".test"},
		{"example TLD", "shop.example", "shop.example", false, ".example"},
		{"invalid", "x.invalid", "", false, ".invalid"},
		{"onion", "abcdefghijklmnop.onion", "", false, ".onion"},
		{"alt", "x.alt", "", false, ".alt"},
		{"reverse DNS", "1.0.0.127.in-addr.arpa", "", false, ".arpa"},
		{"ip6.arpa", "b.a.9.8.ip6.arpa", "", false, ".arpa"},
		{"arpa infrastructure", "ipv4only.arpa", "", false, ".arpa"},
		{"syntax still checked", "https://x.localhost", "", false, "scheme"},
		{"single label still refused", "localhost", "", false, "single-label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, pc := range []struct {
				label string
				p     Policy
				ok    bool
			}{{"strict", strict, tc.strictOK}, {"private", private, tc.want != ""}} {
				got, err := pc.p.RegistrableHost(tc.in)
				switch {
				case pc.ok && (err != nil || got != tc.want):
					t.Errorf("%s: RegistrableHost(%q) = %q, %v; want %q", pc.label, tc.in, got, err, tc.want)
				case !pc.ok && err == nil:
					t.Errorf("%s: RegistrableHost(%q) = %q, want an error", pc.label, tc.in, got)
				case !pc.ok:
					checkReason(t, err, ErrBadHost, tc.why)
				}
			}
			// Lookups never consult the policy: a registered name stays
			// reachable.
			if tc.want != "" {
				if got, err := NormalizeHost(tc.in); err != nil || got != tc.want {
					t.Errorf("NormalizeHost(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
				}
			}
		})
	}
}

func FuzzRegistrableHost(f *testing.F) {
	for _, s := range []string{"x.localhost", "shop.example.com", "nas.home.arpa", "a.onion", "x.local.", "ＬＯＣＡＬＨＯＳＴ.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm, nerr := NormalizeHost(s)
		for _, p := range []Policy{{}, {AllowPrivate: true}} {
			got, err := p.RegistrableHost(s)
			if err != nil {
				if !errors.Is(err, ErrBadHost) {
					t.Fatalf("RegistrableHost(%q) error %v does not match ErrBadHost", s, err)
				}
				continue
			}
			if nerr != nil || got != norm {
				t.Fatalf("RegistrableHost(%q) = %q, but NormalizeHost = %q, %v", s, got, norm, nerr)
			}
			if _, private, special := specialUse(got); special && (!private || !p.AllowPrivate) {
				t.Fatalf("RegistrableHost(%q) accepted special-use %q under %+v", s, got, p)
			}
		}
	})
}
