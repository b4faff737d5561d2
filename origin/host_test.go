package origin

import (
	"errors"
	"strings"
	"testing"

	"github.com/rendercache/rendercache/internal/errkind"
)

// checkReason fails t unless err is a client-facing Invalid error matching
// sentinel whose message is more specific than the sentinel's and mentions
// want.
func checkReason(t *testing.T, err error, sentinel *errkind.Error, want string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want it to match %q", err, sentinel.Message)
	}
	if k := errkind.KindOf(err); k != errkind.Invalid {
		t.Errorf("kind = %v, want invalid", k)
	}
	e := errkind.Of(err)
	if e == nil || e.Message == sentinel.Message || !strings.HasPrefix(e.Message, sentinel.Message+": ") {
		t.Errorf("errkind.Of(err) = %v, want a specific message after %q", e, sentinel.Message)
	} else if !strings.Contains(e.Message, want) {
		t.Errorf("message %q does not mention %q", e.Message, want)
	}
}

func TestNormalizeHost(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"lower case and trailing dot", "Example.COM.", "example.com"},
		{"IDN to punycode", "bücher.de", "xn--bcher-kva.de"},
		{"upper-case IDN", "BÜCHER.DE", "xn--bcher-kva.de"},
		{"punycode kept", "xn--bcher-kva.de", "xn--bcher-kva.de"},
		{"surrounding spaces", " www.example.com ", "www.example.com"},
		{"full-width letters", "ｅｘａｍｐｌｅ.com", "example.com"},
		{"digits and hyphens", "a-1.b2.co", "a-1.b2.co"},
		{"numeric label not last", "123.example.com", "123.example.com"},
		{"63-character label", strings.Repeat("a", 63) + ".com", strings.Repeat("a", 63) + ".com"},
		{"253 characters", long(253), long(253)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeHost(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeHost(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// long returns a valid name of n characters.
func long(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.Repeat("a", min(63, n-b.Len())))
	}
	return b.String()
}

func TestNormalizeHostRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, why string }{
		{"empty", "", "empty"},
		{"only spaces", "   ", "empty"},
		{"only a dot", ".", "empty"},
		{"too long", long(254), "253"},
		{"much too long", strings.Repeat("a.", 2000) + "com", "253"},
		{"label too long", strings.Repeat("a", 64) + ".com", "63"},
		{"IDN label too long", strings.Repeat("ü", 60) + ".com", "63"},
		{"empty label", "a..com", "empty label"},
		{"leading dot", ".example.com", "empty label"},
		{"two trailing dots", "example.com..", "empty label"},
		{"leading hyphen", "-a.com", "hyphen"},
		{"trailing hyphen", "a-.com", "hyphen"},
		{"hyphen TLD", "a.com-", "hyphen"},
		{"underscore", "a_b.example.com", "underscore"},
		{"underscore in IDN", "bü_cher.de", "underscore"},
		{"scheme", "https://x.com", "scheme"},
		{"path", "x.com/a", "path"},
		{"backslash", `x.com\a`, "path"},
		{"port", "x.com:80", "port"},
		{"userinfo", "user@x.com", "user"},
		{"query", "x.com?a=1", "query"},
		{"fragment", "x.com#top", "fragment"},
		{"inner space", "www.exa mple.com", "space"},
		{"IPv4", "10.0.0.1", "IP address"},
		{"IPv4 trailing dot", "10.0.0.1.", "IP address"},
		{"short IPv4", "127.1", "IP address"},
		{"hex IPv4", "0x7f.0x1", "IP address"},
		{"numeric TLD", "example.123", "IP address"},
		{"IPv6", "::1", "IP address"},
		{"bracketed IPv6", "[2001:db8::1]", "IP address"},
		{"localhost", "localhost", "single-label"},
		{"intranet", "intranet", "single-label"},
		{"single label with dot", "intranet.", "single-label"},
		{"wildcard", "*", "wildcard"},
		{"wildcard subdomain", "*.example.com", "wildcard"},
		{"bad character", "ex!ample.com", "not allowed"},
		{"invalid punycode", "xn--a.com", "internationalized"},
		{"disallowed rune", "a\ue000b.com", "internationalized"},
		{"reserved hyphens", "ab--cd.com", "internationalized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeHost(tc.in)
			if err == nil {
				t.Fatalf("NormalizeHost(%q) = %q, want an error", tc.in, got)
			}
			checkReason(t, err, ErrBadHost, tc.why)
			if errors.Is(err, ErrBadOrigin) {
				t.Errorf("err matches ErrBadOrigin too")
			}
		})
	}
}

func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{"Example.COM.", "bücher.de", " www.example.com ", "xn--bcher-kva.de", "a..b", "-a.com",
		"a_b.com", "https://x.com", "x.com:80", "10.0.0.1", "::1", "localhost", "*.x.com", "ｅｘａｍｐｌｅ.com", "ß.de", "127.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeHost(s)
		if err != nil {
			if !errors.Is(err, ErrBadHost) || errkind.KindOf(err) != errkind.Invalid {
				t.Fatalf("NormalizeHost(%q) error %v does not match ErrBadHost", s, err)
			}
			return
		}
		if strings.Trim(got, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
			t.Fatalf("NormalizeHost(%q) = %q, want only [a-z0-9.-]", s, got)
		}
		if len(got) > maxNameLen {
			t.Fatalf("NormalizeHost(%q) = %q, longer than %d", s, got, maxNameLen)
		}
		again, err := NormalizeHost(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeHost(%q) = %q, but NormalizeHost(%q) = %q, %v", s, got, got, again, err)
		}
	})
}
