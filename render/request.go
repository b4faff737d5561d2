package render

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Priority orders renders waiting for a slot.
type Priority int

// Priorities, most urgent first.
const (
	Live       Priority = iota // a crawler is waiting for this page: served first
	Background                 // refresh and warm-up jobs: wait behind live ones
)

// Variant is the device a page is rendered for. Crawlers index mobile and
// desktop pages separately, so each has its own cache entry.
type Variant string

// Variants.
const (
	Desktop Variant = "desktop" // a 1366x768 desktop Chrome
	Mobile  Variant = "mobile"  // a phone-sized touch screen with a mobile Chrome
)

// Request asks for one page.
type Request struct {
	// URL is the absolute http(s) URL of the page on the domain's origin,
	// such as "http://127.0.0.1:4567/path?q=1".
	URL string
	// Variant defaults to Desktop.
	Variant  Variant
	Priority Priority
	// Domain is the fairness key: within a priority, renders waiting for
	// a slot are shared fairly between domains, so that one domain's
	// burst (a sitemap warm-up, a flood of crawler misses) cannot hold
	// every slot while others wait. Callers set the customer's domain;
	// empty means the URL's host.
	Domain string
	// Block lists extra URL patterns to refuse (the domain's own config),
	// on top of DefaultBlocklist: substrings of the whole URL, where "*"
	// matches any run of characters.
	Block []string
	// AllowResources lets images, media and fonts load; by default they
	// are refused, since crawlers read HTML.
	AllowResources bool
	// BlockTypes, when not nil, replaces the refused resource types
	// (default image, media, font, text tracks) with these names from
	// TypeNames: a domain's render.blockResources.
	BlockTypes []string
	// AllowTrackers lets URLs on DefaultBlocklist load: a domain with
	// render.blockTrackers off.
	AllowTrackers bool
	// Timeout overrides Options.Timeout for this render when positive.
	Timeout time.Duration
}

// Result is a rendered page, or the origin's answer passed through.
type Result struct {
	// Status is the main document's status, after a
	// <meta name="prerender-status-code"> override.
	Status int
	// Header holds Content-Type, Location for a passed-through redirect,
	// and the headers the page set with <meta name="prerender-header">.
	Header http.Header
	// Body is the rendered HTML (scripts stripped), or the origin's body
	// when Rendered is false.
	Body []byte
	// Rendered is false when the origin's answer was passed through
	// without Chromium: a redirect (3xx), or a body that is not HTML.
	Rendered bool
	// Duration is how long the render took once it had a slot.
	Duration time.Duration
}

// check validates r and fills in its defaults.
func (r *Request) check(defaultTimeout time.Duration) (*url.URL, error) {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("render %q: %w", r.URL, ErrBadURL)
	}
	switch r.Variant {
	case "":
		r.Variant = Desktop
	case Desktop, Mobile:
	default:
		return nil, fmt.Errorf("render %q: variant %q: %w", r.URL, r.Variant, ErrBadRequest)
	}
	if r.Priority != Live && r.Priority != Background {
		return nil, fmt.Errorf("render %q: priority %d: %w", r.URL, r.Priority, ErrBadRequest)
	}
	if r.Timeout <= 0 {
		r.Timeout = defaultTimeout
	}
	u.Fragment, u.RawFragment = "", "" // never sent to the origin
	return u, nil
}
