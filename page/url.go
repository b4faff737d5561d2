package page

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/origin"
)

// Page URLs. Every route that names a page of a site — the serve path and
// the prerender endpoints, purge, refresh, warm-up, the webhook refresh and
// the Script API — validates it here, and gets back the one canonical form
// that cache keys, purges and renders use, so that a purge always names
// the key that a crawler's request filled.
const (
	// MaxPath bounds a page's path in bytes, escaped, both as sent and in
	// canonical form (escaping may lengthen it).
	MaxPath = 2048
	// MaxURL bounds a page URL, path and query, in bytes; longer ones are
	// refused rather than cached.
	MaxURL = 4096
	// maxAuthority bounds the host and port of an absolute page URL: a DNS
	// name, or a bracketed IPv6 address, and a port.
	maxAuthority = 253 + len(":65535")
)

var (
	// ErrURLTooLong refuses URLs over MaxURL.
	ErrURLTooLong = errkind.New(errkind.Invalid, "URL too long")
	// ErrPathTooLong refuses paths over MaxPath.
	ErrPathTooLong = errkind.New(errkind.Invalid, "path too long: at most 2048 bytes")
	// ErrBadURL refuses URLs that cannot be a page of the site.
	ErrBadURL = errkind.New(errkind.Invalid, "malformed URL")
	// ErrPathStart refuses a page path that does not start with "/".
	ErrPathStart = errkind.New(errkind.Invalid, `each path must start with "/"`)
	// ErrBadPath refuses a path with a control character (NUL, CR, LF,
	// ...), raw or escaped, or a malformed percent-escape; the error that
	// matches it says which.
	ErrBadPath = origin.ErrBadPath
	// ErrNotOnHost refuses an absolute URL that is not http(s) on the
	// page's domain (or, for a sitemap, its origin).
	ErrNotOnHost = errkind.New(errkind.Invalid, `each URL must be a path starting with "/" or an http(s) URL on the domain`)
)

// CleanPath validates a page's escaped path and returns it in canonical
// form (origin.CleanPath: escapes in upper case, unreserved characters
// decoded, dot segments removed, so "/a/../b" is "/b"). It refuses, with
// an errkind.Invalid error, paths that do not start with "/"
// (ErrPathStart), are longer than MaxPath before or after normalising
// (ErrPathTooLong), or hold a control character, raw or escaped, or a bad
// percent-escape (ErrBadPath). Pure, safe for concurrent use.
func CleanPath(p string) (string, error) {
	if len(p) > MaxPath {
		return "", ErrPathTooLong
	}
	if !strings.HasPrefix(p, "/") {
		return "", ErrPathStart
	}
	c, err := origin.CleanPath(p)
	if err != nil {
		return "", err
	}
	if len(c) > MaxPath {
		return "", ErrPathTooLong
	}
	return c, nil
}

// trackingParams never change a page, so they are dropped from the cache
// key (and the rendered URL): one page, one entry.
var trackingParams = []string{"gclid", "fbclid", "msclkid", "dclid", "yclid", "mc_cid", "mc_eid", "_ga"}

// NormalizeURL returns the canonical path-and-query of a page: the path as
// CleanPath makes it ("" is "/"), the query sorted with tracking
// parameters removed, and the AJAX-crawling `_escaped_fragment_` turned
// back into its `#!` fragment. The result is part of the cache key. Its
// errors are CleanPath's, ErrURLTooLong when path and query (as sent or
// normalised) are over MaxURL, and ErrBadURL for a malformed query.
func NormalizeURL(escapedPath, rawQuery string) (string, error) {
	if len(escapedPath) > MaxPath {
		return "", ErrPathTooLong
	}
	if len(escapedPath)+len(rawQuery) > MaxURL {
		return "", ErrURLTooLong
	}
	if escapedPath == "" {
		escapedPath = "/"
	}
	path, err := CleanPath(escapedPath)
	if err != nil {
		return "", err
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", ErrBadURL
	}
	fragment := ""
	if v, ok := q["_escaped_fragment_"]; ok {
		if len(v) > 0 && v[0] != "" {
			if strings.ContainsFunc(v[0], func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return "", ErrBadURL
			}
			fragment = "#!" + strings.ReplaceAll(v[0], " ", "%20")
		}
		delete(q, "_escaped_fragment_")
	}
	for k := range q {
		if strings.HasPrefix(strings.ToLower(k), "utm_") {
			delete(q, k)
		}
	}
	for _, k := range trackingParams {
		delete(q, k)
	}
	out := path
	if enc := q.Encode(); enc != "" {
		out += "?" + enc
	}
	out += fragment
	if len(out) > MaxURL {
		return "", ErrURLTooLong
	}
	return out, nil
}

// NormalizeRef validates a reference to a page as the management APIs
// take it — a path with an optional query ("/blog?page=2"), or an absolute
// http(s) URL whose host is one of hosts ("https://www.example.com/blog";
// with no hosts, only paths) — and returns its NormalizeURL form. A
// fragment is dropped, as browsers never send it, except an AJAX-crawling
// "#!" one, which is kept the way NormalizeURL keys it, so NormalizeRef
// accepts its own output. hosts are in canonical form (origin.NormalizeHost
// or an origin's Host). Errors are NormalizeURL's, ErrPathStart for a
// relative reference and ErrNotOnHost for an absolute URL elsewhere. Pure,
// safe for concurrent use.
func NormalizeRef(raw string, hosts ...string) (string, error) {
	rest := raw
	if !strings.HasPrefix(raw, "/") {
		scheme, after, ok := strings.Cut(raw, "://")
		if !ok {
			return "", ErrPathStart
		}
		end := strings.IndexAny(after, "/?#")
		if end < 0 {
			end = len(after)
		}
		scheme = strings.ToLower(scheme)
		if scheme != "http" && scheme != "https" || !onHost(after[:end], hosts) {
			return "", ErrNotOnHost
		}
		rest = after[end:]
	}
	rest, frag, _ := strings.Cut(rest, "#")
	path, query, _ := strings.Cut(rest, "?")
	if f, ok := strings.CutPrefix(frag, "!"); ok && f != "" {
		if len(f) > MaxURL {
			return "", ErrURLTooLong
		}
		v, err := url.PathUnescape(f)
		if err != nil {
			v = f
		}
		if query != "" {
			query += "&"
		}
		query += "_escaped_fragment_=" + url.QueryEscape(v)
	}
	return NormalizeURL(path, query)
}

// onHost reports whether authority, an absolute URL's host and optional
// port, names one of hosts. User names are never accepted.
func onHost(authority string, hosts []string) bool {
	if len(hosts) == 0 || len(authority) > maxAuthority || strings.Contains(authority, "@") {
		return false
	}
	u, err := url.Parse("//" + authority)
	if err != nil {
		return false
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if a, err := netip.ParseAddr(h); err == nil {
		h = a.String()
	} else if strings.ContainsFunc(h, func(r rune) bool { return r >= 0x80 }) {
		if n, err := origin.NormalizeHost(h); err == nil {
			h = n
		}
	}
	return slices.Contains(hosts, h)
}
