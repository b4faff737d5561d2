package origin

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// Limits of DNS names (RFC 1035), counted on the ASCII (punycode) form
// without the trailing dot.
const (
	maxNameLen  = 253
	maxLabelLen = 63
	// maxRawNameLen bounds the input before IDNA conversion; it leaves room
	// for Unicode, which takes up to four bytes a character.
	maxRawNameLen = 4 * (maxNameLen + 1)
)

// idnaProfile converts Unicode names to punycode. Lookup is strict (STD3
// rules, hyphen and joiner checks, bidi rule, punycode labels validated)
// yet maps what people type, such as full-width letters, to its canonical
// form.
var idnaProfile = idna.Lookup

// NormalizeHost validates a domain name as a customer types it and returns
// its canonical form: trimmed, lower case, without the trailing dot, and in
// ASCII (internationalised names become punycode, "bücher.de" becomes
// "xn--bcher-kva.de"). The result contains only a-z, 0-9, '-' and '.'.
//
// It refuses anything that is not a DNS name of two or more labels: URLs
// or names with a scheme, user, port, path, query or fragment, IP
// addresses, single-label names such as "localhost", wildcards,
// underscores, empty labels, labels that start or end with a hyphen, labels
// over 63 characters and names over 253. The error matches ErrBadHost and
// its errkind message says what is wrong. Names under special-use domains,
// such as "x.localhost", pass: whether they may be registered is
// Policy.RegistrableHost's call, while lookups of registered names use
// NormalizeHost alone.
//
// NormalizeHost is a pure function, safe for concurrent use.
func NormalizeHost(s string) (string, error) {
	s = strings.TrimSpace(s)
	if why := hostSyntax(s); why != "" {
		return "", because(ErrBadHost, why)
	}
	name, err := canonicalName(strings.TrimSuffix(strings.ToLower(s), "."), false)
	if err != nil {
		return "", because(ErrBadHost, err.Error())
	}
	if endsInNumber(name) {
		return "", because(ErrBadHost, "IP addresses are not allowed; enter a domain name like www.example.com")
	}
	return name, nil
}

// hostSyntax explains what, other than a domain name, s holds; it returns
// "" when s may be one.
func hostSyntax(s string) string {
	const example = "enter just the domain name, like www.example.com"
	switch {
	case s == "":
		return "the domain name is empty"
	case len(s) > maxRawNameLen:
		return fmt.Sprintf("the domain name is longer than %d characters", maxNameLen)
	case strings.Contains(s, "://"):
		return "remove the scheme (such as https://); " + example
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "the domain name contains a space"
	case strings.Contains(s, "@"):
		return "remove the user name (the part before @); " + example
	case strings.ContainsAny(s, `/\`):
		return "remove the path (the part from /); " + example
	case strings.Contains(s, "?"):
		return "remove the query (the part from ?); " + example
	case strings.Contains(s, "#"):
		return "remove the fragment (the part from #); " + example
	case isIPLiteral(s):
		return "IP addresses are not allowed; enter a domain name like www.example.com"
	case strings.Contains(s, ":"):
		return "remove the port (the part from :); " + example
	case strings.Contains(s, "*"):
		return "wildcard domains are not supported; register each host name, like www.example.com"
	}
	return ""
}

// isIPLiteral reports whether s is an IPv4 or IPv6 address, possibly in
// brackets or with a trailing dot.
func isIPLiteral(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// noUnderscores explains why names with underscores, common in DNS
// records, are refused as host names.
const noUnderscores = "underscores are not allowed in host names"

// canonicalName converts a lower-case name without a trailing dot to its
// checked ASCII form. Single-label names pass only when allowSingle is set.
// Its errors are client-facing reasons, without a sentinel.
func canonicalName(s string, allowSingle bool) (string, error) {
	if s == "" {
		return "", errors.New("the host name is empty")
	}
	// Check ASCII input before IDNA so that common mistakes get a specific
	// message rather than IDNA's generic one.
	if strings.Contains(s, "_") {
		return "", errors.New(noUnderscores)
	}
	if isASCII(s) {
		if err := checkLabels(s, allowSingle); err != nil {
			return "", err
		}
	}
	a, err := idnaProfile.ToASCII(s)
	if err != nil {
		return "", fmt.Errorf("not a valid internationalized domain name (%s)", strings.TrimPrefix(err.Error(), "idna: "))
	}
	if err := checkLabels(a, allowSingle); err != nil {
		return "", err
	}
	return a, nil
}

// checkLabels checks the ASCII name s against DNS's length limits and the
// letters-digits-hyphen rule.
func checkLabels(s string, allowSingle bool) error {
	if len(s) > maxNameLen {
		return fmt.Errorf("the name is longer than %d characters", maxNameLen)
	}
	labels := strings.Split(s, ".")
	if !allowSingle && len(labels) < 2 {
		return fmt.Errorf("%q is a single-label name, not a public domain; enter a full domain name like www.example.com", s)
	}
	for _, l := range labels {
		if l == "" {
			return errors.New("the name has an empty label (a leading dot or two dots in a row)")
		}
		if len(l) > maxLabelLen {
			return fmt.Errorf("a label is longer than %d characters", maxLabelLen)
		}
		for i := 0; i < len(l); i++ {
			switch c := l[i]; {
			case c == '_':
				return errors.New(noUnderscores)
			case !isLDH(c):
				return fmt.Errorf("the character %q is not allowed; use letters, digits and hyphens", rune(c))
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with a hyphen", l)
		}
	}
	return nil
}

// isLDH reports whether c is a lower-case letter, a digit or a hyphen.
func isLDH(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
}

// endsInNumber reports whether the last label of the ASCII name s is a
// number (decimal, or hex with 0x), which URL parsers such as Chromium's
// read as an IPv4 address: "127.1" and "0x7f000001" are 127.0.0.1 to them.
func endsInNumber(s string) bool {
	last := s[strings.LastIndexByte(s, '.')+1:]
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// specialUseDomains are the domains whose names are not public DNS names:
// those of IANA's Special-Use Domain Names registry (RFC 6761 and its
// successors), with the registry's .arpa entries folded into "arpa", plus
// .internal, which ICANN reserved for private use in 2024. The registry's
// example.com, example.net and example.org are not here: they are delegated
// and resolve publicly, and RFC 6761 asks software not to treat them
// specially.
//
// Private domains name hosts inside one machine or network, or are
// reserved for testing and documentation, so a cluster that may fetch
// private origins may serve them too. The others exist in no network a site
// could be served from. The first match wins, so home.arpa precedes arpa.
var specialUseDomains = []struct {
	domain  string
	private bool
	what    string
}{
	{"localhost", true, "names the local machine (RFC 6761)"},
	{"local", true, "is for multicast DNS on a local network (RFC 6762)"},
	{"internal", true, "is reserved for private networks"},
	{"home.arpa", true, "is for home networks (RFC 8375)"},
	{"test", true, "is reserved for testing (RFC 6761)"},
	{"example", true, "is reserved for documentation (RFC 6761)"},
	{"invalid", false, "is reserved for names that never exist (RFC 6761)"},
	{"onion", false, "is reached only through Tor, not DNS (RFC 7686)"},
	{"alt", false, "is for name systems other than DNS (RFC 9476)"},
	{"arpa", false, "is reserved for Internet infrastructure such as reverse DNS (RFC 3172)"},
}

// specialUse reports whether the canonical name (a NormalizeHost result)
// is or lies under a special-use domain, why it is not a public name, and
// whether that domain is a private one (see specialUseDomains).
func specialUse(name string) (why string, private, ok bool) {
	for _, d := range specialUseDomains {
		if name == d.domain || strings.HasSuffix(name, "."+d.domain) {
			return fmt.Sprintf("%q is not a public domain name: .%s %s", name, d.domain, d.what), d.private, true
		}
	}
	return "", false, false
}
