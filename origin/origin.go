package origin

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// maxOriginLen bounds an origin URL, as typed and in canonical form.
const maxOriginLen = 2048

// Origin is a parsed, normalised origin URL, the server a domain's pages
// are fetched from. Values from ParseOrigin are in canonical form: String
// formats them and ParseOrigin parses that back to an equal value.
type Origin struct {
	// Scheme is "http" or "https".
	Scheme string
	// Host is a lower-case ASCII host name, which may be a single label
	// such as "intranet", or an IP address in netip's canonical form
	// (IPv6 without brackets).
	Host string
	// Port is the decimal port, or "" for the scheme's default.
	Port string
	// Path is the escaped base path without trailing slashes, such as
	// "/base", or "" for the root.
	Path string
}

// ParseOrigin validates an origin URL as a customer types it and returns it
// in canonical form: scheme and host in lower case, internationalised hosts
// in punycode, the default port (80 for http, 443 for https) dropped, the
// path in CleanPath's form (dot segments removed, so "/a/../.." is the root)
// and its trailing slashes removed, so "HTTPS://X.com:443/" becomes
// "https://x.com" and "https://x.com/base/../.." "https://x.com".
//
// Unlike NormalizeHost, it accepts IP addresses and single-label hosts,
// because self-hosted origins may use them; whether they may be fetched is
// for Policy to decide. It refuses schemes other than http and https, URLs
// without a host, with a user name or password, a query or a fragment,
// ports outside 1..65535, paths with control characters (raw or escaped,
// such as "%00") or malformed escapes, and URLs over 2048 characters, as
// typed or once normalised. The error matches ErrBadOrigin and its errkind
// message says what is wrong.
//
// ParseOrigin is a pure function, safe for concurrent use.
func ParseOrigin(s string) (Origin, error) {
	o, why := parseOrigin(strings.TrimSpace(s))
	if why != "" {
		return Origin{}, because(ErrBadOrigin, why)
	}
	return o, nil
}

// parseOrigin does ParseOrigin's work; it returns why s is refused, or "".
func parseOrigin(s string) (Origin, string) {
	const start = "the URL must start with http:// or https://"
	switch {
	case s == "":
		return Origin{}, "the origin URL is empty"
	case len(s) > maxOriginLen:
		return Origin{}, fmt.Sprintf("the URL is longer than %d characters", maxOriginLen)
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Origin{}, fmt.Sprintf("not a valid URL (%v)", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Scheme != "" && strings.Contains(s, "://") {
			return Origin{}, fmt.Sprintf("the scheme %q is not allowed; use http or https", u.Scheme)
		}
		return Origin{}, start
	case u.Opaque != "":
		return Origin{}, start
	case u.User != nil:
		return Origin{}, "user names and passwords are not allowed in the URL"
	case u.RawQuery != "" || u.ForceQuery:
		return Origin{}, "a query (the part from ?) is not allowed"
	case u.Fragment != "" || strings.Contains(s, "#"):
		return Origin{}, "a fragment (the part from #) is not allowed"
	}
	host, why := originHost(u)
	if why != "" {
		return Origin{}, why
	}
	port, why := originPort(u)
	if why != "" {
		return Origin{}, why
	}
	if port == defaultPort(u.Scheme) {
		port = ""
	}
	path, why := cleanPath(u.EscapedPath())
	if why != "" {
		return Origin{}, "path: " + why
	}
	o := Origin{Scheme: u.Scheme, Host: host, Port: port, Path: strings.TrimRight(path, "/")}
	if len(o.String()) > maxOriginLen {
		return Origin{}, fmt.Sprintf("the URL is longer than %d characters once normalised", maxOriginLen)
	}
	return o, ""
}

// originHost returns u's host in canonical form, or why it is refused.
func originHost(u *url.URL) (string, string) {
	h := u.Hostname()
	if h == "" {
		return "", "the URL has no host"
	}
	if strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(h)
		switch {
		case err != nil || !a.Is6():
			return "", "the host in brackets is not a valid IPv6 address"
		case a.Zone() != "":
			return "", "IPv6 zones (%) are not allowed in the host"
		}
		return a.String(), ""
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if a, err := netip.ParseAddr(h); err == nil && a.Is4() {
		return a.String(), ""
	}
	name, err := canonicalName(h, true)
	if err != nil {
		return "", "host: " + err.Error()
	}
	if endsInNumber(name) {
		return "", fmt.Sprintf("the host %q looks like an IPv4 address but is not one in dotted-decimal form, like 192.0.2.1", name)
	}
	return name, ""
}

// originPort returns u's port in canonical decimal form ("" when absent),
// or why it is refused.
func originPort(u *url.URL) (string, string) {
	p := u.Port()
	if p == "" {
		if strings.HasSuffix(u.Host, ":") {
			return "", "the port after : is empty"
		}
		return "", ""
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		if len(p) > 10 {
			p = p[:10] + "…"
		}
		return "", fmt.Sprintf("port %s is not between 1 and 65535", p)
	}
	return strconv.Itoa(n), ""
}

// defaultPort returns the port a scheme implies.
func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// String returns the canonical URL, such as
// "https://origin.example.com:8443/base"; ParseOrigin returns an equal
// Origin for it.
func (o Origin) String() string {
	var b strings.Builder
	b.WriteString(o.Scheme)
	b.WriteString("://")
	if strings.Contains(o.Host, ":") {
		b.WriteString("[" + o.Host + "]")
	} else {
		b.WriteString(o.Host)
	}
	if o.Port != "" {
		b.WriteString(":" + o.Port)
	}
	b.WriteString(o.Path)
	return b.String()
}

// HostPort returns the address to dial, "host:port", with the scheme's
// default port filled in and IPv6 hosts in brackets.
func (o Origin) HostPort() string {
	port := o.Port
	if port == "" {
		port = defaultPort(o.Scheme)
	}
	return net.JoinHostPort(o.Host, port)
}
