package origin

import (
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"root", "/", "/"},
		{"empty", "", ""},
		{"plain", "/a/b", "/a/b"},
		{"trailing slash kept", "/a/", "/a/"},
		{"empty segments kept", "/a//b", "/a//b"},
		{"dot", "/a/./b", "/a/b"},
		{"dot dot", "/a/b/../c", "/a/c"},
		{"dot dot at the end", "/a/b/..", "/a/"},
		{"dot at the end", "/a/.", "/a/"},
		{"above the root", "/../..", "/"},
		{"above the root then on", "/../../etc/passwd", "/etc/passwd"},
		{"escaped dots", "/a/%2e%2E/b", "/b"},
		{"half-escaped dots", "/a/.%2e/b/%2e./c/%2E", "/c/"},
		{"dots inside a name kept", "/a..b/.c/d.", "/a..b/.c/d."},
		{"relative", "a/../../b", "/b"},
		{"relative dot", "./a", "a"},
		{"hex in upper case", "/caf%c3%a9", "/caf%C3%A9"},
		{"unreserved decoded", "/%41%7e%2D", "/A~-"},
		{"escaped slash kept", "/a%2fb", "/a%2Fb"},
		{"escaped percent kept", "/100%25", "/100%25"},
		{"space escaped", "/a b", "/a%20b"},
		{"utf-8 escaped", "/café", "/caf%C3%A9"},
		{"query and fragment marks escaped", "/a?b#c", "/a%3Fb%23c"},
		{"sub-delimiters kept", "/a;b=c,d!$&'()*+:@[]", "/a;b=c,d!$&'()*+:@[]"},
		{"quote and brackets escaped", `/"<>\^{|}`, "/%22%3C%3E%5C%5E%7B%7C%7D"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CleanPath(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("CleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestCleanPathRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, why string }{
		{"NUL", "/a\x00b", "control characters"},
		{"escaped NUL", "/a%00b", "control characters"},
		{"CR LF", "/a\r\nSet-Cookie: x", "control characters"},
		{"escaped CR LF", "/a%0d%0AX: y", "control characters"},
		{"tab", "/a\tb", "control characters"},
		{"DEL", "/a\x7f", "control characters"},
		{"escaped DEL", "/a%7F", "control characters"},
		{"bad escape", "/%zz", `"%zz" is not a valid percent-escape`},
		{"half escape", "/a%4", `"%4" is not a valid percent-escape`},
		{"lone percent", "/100%", `"%" is not a valid percent-escape`},
		{"percent then one digit", "/%a/b", `"%a/" is not a valid percent-escape`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CleanPath(tc.in)
			if err == nil {
				t.Fatalf("CleanPath(%q) = %q, want an error", tc.in, got)
			}
			checkReason(t, err, ErrBadPath, tc.why)
		})
	}
}

func TestParseOriginCleansPath(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"dot segments above the root", "https://o.example/../..", "https://o.example"},
		{"dot segments in the base", "https://o.example/a/./b/../c/", "https://o.example/a/c"},
		{"escaped dot segments", "https://o.example/base/%2e%2e/other", "https://o.example/other"},
		{"escapes in upper case", "https://o.example/caf%c3%a9", "https://o.example/caf%C3%A9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseOrigin(tc.in)
			if err != nil || o.String() != tc.want {
				t.Fatalf("ParseOrigin(%q) = %q, %v; want %q", tc.in, o.String(), err, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, in, why string }{
		{"escaped NUL", "https://o.example/%00", "control characters"},
		{"escaped CR LF", "https://o.example/a%0D%0Ab", "control characters"},
		{"too long once cleaned", "https://o.example/" + strings.Repeat("|", 700), "once normalised"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseOrigin(tc.in)
			if err == nil {
				t.Fatalf("ParseOrigin(%q) = %+v, want an error", tc.in, o)
			}
			checkReason(t, err, ErrBadOrigin, tc.why)
		})
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "", "/a/../b", "/%2e%2e/%2E", "/caf%c3%a9", "/a%00", "/%zz", "a/./b/", "/a b?c#d", "/..%2f.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CleanPath(s)
		if err != nil {
			return
		}
		again, err := CleanPath(c)
		if err != nil || again != c {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, c, again, err)
		}
		if hasDotSegment(c) {
			t.Fatalf("CleanPath(%q) = %q keeps a dot segment", s, c)
		}
		for i := 0; i < len(c); i++ {
			if isControl(c[i]) || c[i] >= 0x80 || c[i] == ' ' || c[i] == '?' || c[i] == '#' {
				t.Fatalf("CleanPath(%q) = %q has a raw %q", s, c, c[i])
			}
		}
		if strings.HasPrefix(s, "/") && !strings.HasPrefix(c, "/") {
			t.Fatalf("CleanPath(%q) = %q is no longer absolute", s, c)
		}
	})
}
