package page

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/rendercache/rendercache/internal/errkind"
)

func TestNormalizeURL(t *testing.T) {
	cases := []struct {
		name, path, query, want string
	}{
		{"root", "/", "", "/"},
		{"empty path", "", "", "/"},
		{"query sorted", "/p", "b=2&a=1", "/p?a=1&b=2"},
		{"tracking dropped", "/p", "utm_source=x&id=3&gclid=abc&fbclid=z&UTM_Medium=m", "/p?id=3"},
		{"escaped fragment empty", "/app", "_escaped_fragment_=", "/app"},
		{"escaped fragment value", "/", "_escaped_fragment_=/about", "/#!/about"},
		{"escaped path kept", "/caf%C3%A9/a%2Fb", "", "/caf%C3%A9/a%2Fb"},
		{"escapes in upper case", "/caf%c3%a9", "", "/caf%C3%A9"},
		{"trailing slash kept", "/dir/", "", "/dir/"},
		{"dot segments removed", "/a/./b/../c", "x=1", "/a/c?x=1"},
		{"escaped dot segments removed", "/%2e%2e/%2E%2E/admin", "", "/admin"},
		{"longest path", "/" + strings.Repeat("a", MaxPath-1), "", "/" + strings.Repeat("a", MaxPath-1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := NormalizeURL(c.path, c.query)
			if err != nil || got != c.want {
				t.Fatalf("NormalizeURL(%q, %q) = %q, %v; want %q", c.path, c.query, got, err, c.want)
			}
		})
	}
}

func TestNormalizeURLRejects(t *testing.T) {
	cases := []struct {
		name, path, query string
		want              error
	}{
		{"too long", "/", "q=" + strings.Repeat("x", MaxURL), ErrURLTooLong},
		{"too long once normalised", "/", "q=" + strings.Repeat("é", MaxURL/4), ErrURLTooLong},
		{"path too long", "/" + strings.Repeat("a", MaxPath), "", ErrPathTooLong},
		{"path too long once escaped", "/" + strings.Repeat("|", MaxPath/2), "", ErrPathTooLong},
		{"relative", "p", "", ErrPathStart},
		{"bad escape", "/%zz", "", ErrBadPath},
		{"bad query", "/", "a=%zz", ErrBadURL},
		{"nul", "/a\x00b", "", ErrBadPath},
		{"escaped nul", "/a%00b", "", ErrBadPath},
		{"escaped CR LF", "/a%0D%0Ab", "", ErrBadPath},
		{"control character in the escaped fragment", "/", "_escaped_fragment_=%0D%0A", ErrBadURL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NormalizeURL(c.path, c.query); !errors.Is(err, c.want) || errkind.KindOf(err) != errkind.Invalid {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestCleanPath(t *testing.T) {
	if !strings.Contains(ErrPathTooLong.Message, strconv.Itoa(MaxPath)) {
		t.Fatalf("ErrPathTooLong %q does not state MaxPath", ErrPathTooLong.Message)
	}
	cases := []struct {
		name, in, want string
		err            error
	}{
		{"root", "/", "/", nil},
		{"plain", "/blog/post-1", "/blog/post-1", nil},
		{"at the bound", "/" + strings.Repeat("x", MaxPath-1), "/" + strings.Repeat("x", MaxPath-1), nil},
		{"over the bound", "/" + strings.Repeat("x", MaxPath), "", ErrPathTooLong},
		{"900 KB", "/" + strings.Repeat("x", 900<<10), "", ErrPathTooLong},
		{"over the bound once escaped", "/" + strings.Repeat("é", MaxPath/3), "", ErrPathTooLong},
		{"empty", "", "", ErrPathStart},
		{"relative", "about", "", ErrPathStart},
		{"absolute URL", "https://x.example/", "", ErrPathStart},
		{"NUL", "/a\x00b", "", ErrBadPath},
		{"escaped NUL", "/a%00b", "", ErrBadPath},
		{"CR LF", "/a\r\nb", "", ErrBadPath},
		{"escaped CR LF", "/a%0d%0ab", "", ErrBadPath},
		{"other control", "/a\x1bb", "", ErrBadPath},
		{"bad escape", "/%zz", "", ErrBadPath},
		{"truncated escape", "/a%4", "", ErrBadPath},
		{"dot segments", "/a/b/./../c", "/a/c", nil},
		{"above the root", "/../../etc/passwd", "/etc/passwd", nil},
		{"escaped dot segments", "/a/%2E%2e/b", "/b", nil},
		{"escaped slash is not a separator", "/a%2F..%2Fb", "/a%2F..%2Fb", nil},
		{"space escaped", "/about us", "/about%20us", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := CleanPath(c.in)
			if c.err != nil {
				if !errors.Is(err, c.err) || errkind.KindOf(err) != errkind.Invalid {
					t.Fatalf("CleanPath = %q, %v; want %v", got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("CleanPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestNormalizeRef(t *testing.T) {
	hosts := []string{"www.example.com", "origin.example.net"}
	cases := []struct {
		name, in, want string
		err            error
	}{
		{"path", "/blog", "/blog", nil},
		{"path and query", "/p?b=2&a=1&utm_source=x", "/p?a=1&b=2", nil},
		{"fragment dropped", "/blog#comments", "/blog", nil},
		{"AJAX fragment kept", "/app#!/about", "/app#!/about", nil},
		{"own output", "/p?x=1#!a%20b", "/p?x=1#!a%20b", nil},
		{"double slash is a path", "//evil.example/x", "//evil.example/x", nil},
		{"absolute URL", "https://www.example.com/a?b=1", "/a?b=1", nil},
		{"absolute URL in capitals", "HTTPS://WWW.Example.COM./a", "/a", nil},
		{"absolute URL with a port", "http://www.example.com:8080/a", "/a", nil},
		{"absolute URL without a path", "https://www.example.com", "/", nil},
		{"absolute URL with only a query", "https://www.example.com?x=1", "/?x=1", nil},
		{"second host", "https://origin.example.net/a/../b", "/b", nil},
		{"relative", "blog", "", ErrPathStart},
		{"empty", "", "", ErrPathStart},
		{"other host", "https://evil.example/a", "", ErrNotOnHost},
		{"host as a prefix", "https://www.example.com.evil.example/a", "", ErrNotOnHost},
		{"user name", "https://www.example.com@evil.example/a", "", ErrNotOnHost},
		{"user name on the host", "https://u:p@www.example.com/a", "", ErrNotOnHost},
		{"ftp", "ftp://www.example.com/a", "", ErrNotOnHost},
		{"javascript", "javascript://www.example.com/%0aalert(1)", "", ErrNotOnHost},
		{"huge host", "https://" + strings.Repeat("a", 1000) + "/", "", ErrNotOnHost},
		{"NUL", "/a\x00b", "", ErrBadPath},
		{"escaped NUL", "/a%00b", "", ErrBadPath},
		{"CR LF", "/a\r\nX-Injected: 1", "", ErrBadPath},
		{"CR LF in an absolute URL", "https://www.example.com/a%0d%0ab", "", ErrBadPath},
		{"bad escape", "/a%zz", "", ErrBadPath},
		{"bad query escape", "/a?x=%zz", "", ErrBadURL},
		{"900 KB path", "/" + strings.Repeat("a", 900<<10), "", ErrPathTooLong},
		{"900 KB query", "/a?q=" + strings.Repeat("a", 900<<10), "", ErrURLTooLong},
		{"900 KB fragment", "/a#!" + strings.Repeat("a", 900<<10), "", ErrURLTooLong},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := NormalizeRef(c.in, hosts...)
			if c.err != nil {
				if !errors.Is(err, c.err) || errkind.KindOf(err) != errkind.Invalid {
					t.Fatalf("NormalizeRef = %q, %v; want %v", got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("NormalizeRef(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
	if _, err := NormalizeRef("https://www.example.com/a"); !errors.Is(err, ErrNotOnHost) {
		t.Fatalf("an absolute URL without hosts: %v, want ErrNotOnHost", err)
	}
}

func FuzzNormalizeURL(f *testing.F) {
	f.Add("/", "a=1&b=2")
	f.Add("/%41", "_escaped_fragment_=x")
	f.Add("/a/../b%2e%2E", "")
	f.Fuzz(func(t *testing.T, p, q string) {
		out, err := NormalizeURL(p, q)
		if err != nil {
			return
		}
		if !strings.HasPrefix(out, "/") || len(out) > MaxURL {
			t.Fatalf("normalised %q %q to %q", p, q, out)
		}
		// Normalising is idempotent on the path-and-query it produced.
		path, query, _ := strings.Cut(strings.SplitN(out, "#!", 2)[0], "?")
		again, err := NormalizeURL(path, query)
		if err != nil || again != strings.SplitN(out, "#!", 2)[0] {
			t.Fatalf("not idempotent: %q → %q (%v)", out, again, err)
		}
	})
}

// FuzzNormalizeRef checks the one validation every route uses: whatever
// it accepts is a bounded, absolute, control-free path that it accepts
// again unchanged, and whatever it refuses is a client error.
func FuzzNormalizeRef(f *testing.F) {
	for _, s := range []string{"/", "/a?b=1#!c", "https://www.example.com/x/../y", "/a%00", "/a\r\n", "/%zz", "//x", "http://u@www.example.com/", "/p#!a%20b%25"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := NormalizeRef(s, "www.example.com")
		if err != nil {
			if errkind.KindOf(err) != errkind.Invalid {
				t.Fatalf("NormalizeRef(%q): %v is not Invalid", s, err)
			}
			return
		}
		path := PathOf(out)
		if !strings.HasPrefix(out, "/") || len(out) > MaxURL || len(path) > MaxPath {
			t.Fatalf("NormalizeRef(%q) = %q", s, out)
		}
		if strings.ContainsFunc(path, func(r rune) bool { return r < 0x20 || r == 0x7f }) || hasEscapedControl(path) {
			t.Fatalf("NormalizeRef(%q) = %q has a control character", s, out)
		}
		again, err := NormalizeRef(out, "www.example.com")
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, out, again, err)
		}
	})
}

// hasEscapedControl reports whether p has a percent-escaped control
// character.
func hasEscapedControl(p string) bool {
	p = strings.ToUpper(p)
	return strings.Contains(p, "%0") || strings.Contains(p, "%1") || strings.Contains(p, "%7F")
}
