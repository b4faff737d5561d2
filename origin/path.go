package origin

import "fmt"

// CleanPath returns an escaped URL path in canonical form, the form in
// which origins' base paths and pages' paths are stored, compared and
// fetched:
//
//   - percent-escapes in upper case ("%c3%a9" becomes "%C3%A9");
//   - escaped unreserved characters decoded ("%7E" becomes "~", "%2E" ".");
//   - bytes that may not appear raw in a path escaped (" " becomes "%20",
//     "é" "%C3%A9", "?" "%3F", "#" "%23"); "/" and "%2F" stay distinct;
//   - dot segments removed as RFC 3986 section 5.2.4 says, escaped ones
//     included, so "/a/./b/../c" and "/a/%2e%2E/c" become "/a/c" and
//     "/../.." becomes "/": a path never climbs above its root.
//
// It refuses control characters (bytes below 0x20, and DEL), raw or
// escaped ("%00", "%0D%0A"), and a "%" not followed by two hexadecimal
// digits; the error matches ErrBadPath and says why. It does not bound the
// length; callers do. CleanPath is idempotent, a pure function, and safe
// for concurrent use.
func CleanPath(p string) (string, error) {
	c, why := cleanPath(p)
	if why != "" {
		return "", because(ErrBadPath, why)
	}
	return c, nil
}

// whyControl is the reason given for control characters.
const whyControl = "control characters (such as NUL, CR or LF) are not allowed"

// cleanPath does CleanPath's work; it returns why p is refused, or "".
func cleanPath(p string) (string, string) {
	if plainPath(p) {
		// Nothing to decode or escape (the usual case, on every hit's
		// path): no copy.
		return removeDotSegments(p), ""
	}
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case isControl(c):
			return "", whyControl
		case c == '%':
			if i+2 >= len(p) || unhex(p[i+1]) < 0 || unhex(p[i+2]) < 0 {
				return "", fmt.Sprintf("%q is not a valid percent-escape (%% and two hexadecimal digits)", p[i:min(i+3, len(p))])
			}
			v := byte(unhex(p[i+1])<<4 | unhex(p[i+2]))
			i += 2
			switch {
			case isControl(v):
				return "", whyControl
			case isUnreserved(v):
				out = append(out, v)
			default:
				out = appendEscaped(out, v)
			}
		case isUnreserved(c) || isPathRaw(c):
			out = append(out, c)
		default:
			out = appendEscaped(out, c)
		}
	}
	return removeDotSegments(string(out)), ""
}

// plainPath reports whether every byte of p is kept as it is: unreserved
// or a raw path character, so no escape to decode or make.
func plainPath(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; !isUnreserved(c) && !isPathRaw(c) {
			return false
		}
	}
	return true
}

// removeDotSegments is RFC 3986's remove_dot_segments (section 5.2.4) on a
// path whose dots are all raw.
func removeDotSegments(in string) string {
	if !hasDotSegment(in) {
		return in
	}
	out := make([]byte, 0, len(in))
	// pop removes the last segment of out, with the "/" before it.
	pop := func() {
		i := len(out) - 1
		for i >= 0 && out[i] != '/' {
			i--
		}
		out = out[:max(i, 0)]
	}
	for in != "" {
		switch {
		case len(in) >= 3 && in[:3] == "../":
			in = in[3:]
		case len(in) >= 2 && in[:2] == "./":
			in = in[2:]
		case len(in) >= 3 && in[:3] == "/./":
			in = in[2:]
		case in == "/.":
			in = "/"
		case len(in) >= 4 && in[:4] == "/../":
			in = in[3:]
			pop()
		case in == "/..":
			in = "/"
			pop()
		case in == "." || in == "..":
			in = ""
		default:
			// Move the first segment, with its leading "/" if any.
			j := 0
			if in[0] == '/' {
				j = 1
			}
			for j < len(in) && in[j] != '/' {
				j++
			}
			out = append(out, in[:j]...)
			in = in[j:]
		}
	}
	return string(out)
}

// hasDotSegment reports whether p has a "." or ".." segment.
func hasDotSegment(p string) bool {
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if s := p[start:i]; s == "." || s == ".." {
				return true
			}
			start = i + 1
		}
	}
	return false
}

func isControl(c byte) bool { return c < 0x20 || c == 0x7f }

// isUnreserved reports RFC 3986's unreserved characters.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isPathRaw reports the other characters a path keeps unescaped: "/", the
// sub-delimiters, ":" and "@" (RFC 3986's pchar), and "[" and "]", which
// browsers and net/url leave alone.
func isPathRaw(c byte) bool {
	switch c {
	case '/', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '[', ']':
		return true
	}
	return false
}

const upperHex = "0123456789ABCDEF"

func appendEscaped(b []byte, c byte) []byte {
	return append(b, '%', upperHex[c>>4], upperHex[c&15])
}

// unhex returns the value of a hexadecimal digit, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
