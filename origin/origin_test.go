package origin

import (
	"strings"
	"testing"
)

func TestParseOrigin(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Origin
		str      string
		hostPort string
	}{
		{"https with port and path", "https://origin.example.com:8443/base",
			Origin{"https", "origin.example.com", "8443", "/base"}, "https://origin.example.com:8443/base", "origin.example.com:8443"},
		{"default https port and slash dropped", "https://x.com:443/",
			Origin{"https", "x.com", "", ""}, "https://x.com", "x.com:443"},
		{"default http port dropped", "http://x.com:80",
			Origin{"http", "x.com", "", ""}, "http://x.com", "x.com:80"},
		{"port 80 kept for https", "https://x.com:80",
			Origin{"https", "x.com", "80", ""}, "https://x.com:80", "x.com:80"},
		{"upper case and spaces", "  HTTP://Origin.Example.COM/Base/  ",
			Origin{"http", "origin.example.com", "", "/Base"}, "http://origin.example.com/Base", "origin.example.com:80"},
		{"trailing dot", "https://x.com./a",
			Origin{"https", "x.com", "", "/a"}, "https://x.com/a", "x.com:443"},
		{"leading zeros in port", "http://x.com:08080",
			Origin{"http", "x.com", "8080", ""}, "http://x.com:8080", "x.com:8080"},
		{"IDN host", "https://Bücher.de",
			Origin{"https", "xn--bcher-kva.de", "", ""}, "https://xn--bcher-kva.de", "xn--bcher-kva.de:443"},
		{"escaped IDN host", "https://b%C3%BCcher.de",
			Origin{"https", "xn--bcher-kva.de", "", ""}, "https://xn--bcher-kva.de", "xn--bcher-kva.de:443"},
		{"IPv4 literal", "http://127.0.0.1:8080",
			Origin{"http", "127.0.0.1", "8080", ""}, "http://127.0.0.1:8080", "127.0.0.1:8080"},
		{"IPv6 literal", "http://[::1]:80/",
			Origin{"http", "::1", "", ""}, "http://[::1]", "[::1]:80"},
		{"IPv6 canonical form", "https://[2001:DB8:0:0::1]:8443",
			Origin{"https", "2001:db8::1", "8443", ""}, "https://[2001:db8::1]:8443", "[2001:db8::1]:8443"},
		{"single-label host", "http://intranet:3000",
			Origin{"http", "intranet", "3000", ""}, "http://intranet:3000", "intranet:3000"},
		{"localhost", "http://localhost", Origin{"http", "localhost", "", ""}, "http://localhost", "localhost:80"},
		{"escaped path kept", "https://x.com/a%20b/c",
			Origin{"https", "x.com", "", "/a%20b/c"}, "https://x.com/a%20b/c", "x.com:443"},
		{"several trailing slashes", "https://x.com/a//",
			Origin{"https", "x.com", "", "/a"}, "https://x.com/a", "x.com:443"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOrigin(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParseOrigin(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if s := got.String(); s != tc.str {
				t.Errorf("String() = %q, want %q", s, tc.str)
			}
			if hp := got.HostPort(); hp != tc.hostPort {
				t.Errorf("HostPort() = %q, want %q", hp, tc.hostPort)
			}
		})
	}
}

func TestParseOriginRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, why string }{
		{"empty", "", "empty"},
		{"too long", "https://x.com/" + strings.Repeat("a", 2040), "2048"},
		{"too long once escaped", "https://x.com/" + strings.Repeat("é", 700), "once normalised"},
		{"ftp", "ftp://x", `scheme "ftp"`},
		{"javascript", "javascript:alert(1)", "http:// or https://"},
		{"no scheme", "x.com", "http:// or https://"},
		{"no scheme with port", "x.com:8080", "http:// or https://"},
		{"scheme-relative", "//x.com", "http:// or https://"},
		{"opaque", "http:x.com", "http:// or https://"},
		{"no host", "https://", "no host"},
		{"no host with path", "https:///a", "no host"},
		{"port without host", "https://:80", "no host"},
		{"userinfo", "https://user:pw@x.com", "user names"},
		{"user only", "https://user@x.com", "user names"},
		{"query", "https://x.com?q=1", "query"},
		{"empty query", "https://x.com/?", "query"},
		{"fragment", "https://x.com#f", "fragment"},
		{"empty fragment", "https://x.com/#", "fragment"},
		{"port 0", "https://x.com:0", "port 0"},
		{"port too big", "https://x.com:99999", "port 99999"},
		{"huge port", "https://x.com:" + strings.Repeat("9", 30), "not between"},
		{"empty port", "https://x.com:", "empty"},
		{"non-numeric port", "https://x.com:http", "not a valid URL"},
		{"underscore", "https://a_b.example.com", "underscore"},
		{"empty label", "https://a..com", "empty label"},
		{"label hyphen", "https://-a.com", "hyphen"},
		{"label too long", "https://" + strings.Repeat("a", 64) + ".com", "63"},
		{"wildcard", "https://*.x.com", "not allowed"},
		{"short IPv4", "http://127.1", "dotted-decimal"},
		{"octal IPv4", "http://0177.0.0.1", "dotted-decimal"},
		{"hex IPv4", "http://0x7f000001", "dotted-decimal"},
		{"decimal IPv4", "http://2130706433", "dotted-decimal"},
		{"bracketed IPv4", "http://[127.0.0.1]", "not a valid URL"},
		{"IPv6 zone", "http://[fe80::1%25eth0]", "zone"},
		{"control character", "https://x.com/\x00", "not a valid URL"},
		{"invalid punycode", "https://xn--a.com", "internationalized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOrigin(tc.in)
			if err == nil {
				t.Fatalf("ParseOrigin(%q) = %+v, want an error", tc.in, got)
			}
			checkReason(t, err, ErrBadOrigin, tc.why)
		})
	}
}

func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{"https://origin.example.com:8443/base", "https://x.com:443/", "http://127.0.0.1:8080",
		"http://[::1]:80/a%20b", "https://Bücher.de/x/", "ftp://x", "https://user:pw@x.com", "https://x.com?q=1",
		"https://x.com#f", "https://x.com:0", "javascript:alert(1)", "http://intranet", "http://127.1", "https://x.com/a;b=c//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOrigin(s)
		if err != nil {
			return
		}
		if o.Scheme != "http" && o.Scheme != "https" || o.Host == "" {
			t.Fatalf("ParseOrigin(%q) = %+v", s, o)
		}
		again, err := ParseOrigin(o.String())
		if err != nil || again != o {
			t.Fatalf("ParseOrigin(%q) = %+v, but ParseOrigin(%q) = %+v, %v", s, o, o.String(), again, err)
		}
	})
}
