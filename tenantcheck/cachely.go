package tenantcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/tenant"
)

// States of the cachely-check, overall and per item.
const (
	Implemented          = "implemented"
	ActiveNeedsAttention = "active_needs_attention"
	NotDetected          = "not_detected"
	NotEnabled           = "not_enabled"
)

// Surface labels: which surface the check probed.
const (
	SurfaceProduction = "production" // the active custom domain
	SurfacePreview    = "preview"    // <slug>.<tenant-domain>
)

// probes is how many plain sequential GETs the check makes: the second
// shows whether the first was kept.
const probes = 2

// maxProbeBody is how much of a probe's answer is read (and dropped)
// before the connection is reused.
const maxProbeBody = 64 << 10

// CachelyReport is POST cachely-check's answer.
type CachelyReport struct {
	State        string  `json:"state"`
	Headline     string  `json:"headline"`
	ProbeURL     *string `json:"probeUrl"`
	SurfaceLabel *string `json:"surfaceLabel"`
	Items        []Item  `json:"items"`
	Probes       []Probe `json:"probes"`
}

// Item is one row of the report: a live finding or a configuration
// status, in the same four states.
type Item struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	State  string `json:"state"`
	Detail string `json:"detail"`
}

// Probe is what one GET of the surface saw. Header values are "" when
// absent; XCache is a generic x-cache, shown and never counted.
type Probe struct {
	Attempt      int    `json:"attempt"`
	URL          string `json:"url"`
	Status       int    `json:"status"`
	DurationMS   int64  `json:"durationMs"`
	Cache        string `json:"cache"`
	Version      string `json:"version"`
	Node         string `json:"node"`
	CacheStatus  string `json:"cacheStatus"`
	CacheControl string `json:"cacheControl"`
	SetCookie    bool   `json:"setCookie"`
	XCache       string `json:"xCache"`
	Error        string `json:"error,omitempty"`
}

// served reports whether p carries Cachely's own proof of service.
func (p Probe) served() bool { return p.Cache != "" }

// Cachely runs the cachely-check on t: it probes the active custom
// domain (production), else the preview host when t has a website
// surface, and weighs what the probes saw against t's configuration. It
// changes nothing.
func (c *Checker) Cachely(ctx context.Context, t tenant.Tenant) CachelyReport {
	domain, derr := c.activeDomain(t.Slug)
	r := CachelyReport{Items: []Item{}, Probes: []Probe{}}
	if t.WebsiteOrigin == "" {
		r.State = NotEnabled
		r.Headline = "This project has no website surface (no website origin): it is API-only, so there is nothing for a visitor to load through Cachely. Use the API Proxy test for the API."
		if t.APIOrigin == "" {
			r.Headline = "This project has no website surface and no API origin yet: configure a website origin to serve the site through Cachely."
		}
		r.Items = append(r.Items, siteItems(NotEnabled, "No website origin is configured.")...)
		r.Items = append(r.Items, domainItem(domain, derr, false), apiItem(t))
		return r
	}
	// Without Self (a checker outside a node), previews are probed like
	// custom domains.
	host, label, self := c.previewHost(t.Slug), SurfacePreview, c.cfg.Self != nil
	if domain != "" {
		host, label, self = domain, SurfaceProduction, false
	}
	u := c.probeURL(host)
	r.ProbeURL, r.SurfaceLabel = &u, &label
	for i := 1; i <= probes; i++ {
		r.Probes = append(r.Probes, c.probeOnce(ctx, i, u, host, self))
	}
	r.State, r.Headline, r.Items = verdict(t, u, label, r.Probes)
	r.Items = append(r.Items, domainItem(domain, derr, true), apiItem(t))
	return r
}

// probeOnce makes one plain GET of host's root.
func (c *Checker) probeOnce(ctx context.Context, attempt int, u, host string, self bool) Probe {
	p := Probe{Attempt: attempt, URL: u}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ProbeTimeout)
	defer cancel()
	target, cl := u, c.probe
	if self {
		// This node's own listener, plain HTTP, with the preview host.
		target, cl = "http://"+c.cfg.Self()+"/", c.self
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		p.Error = "the probe URL is malformed"
		return p
	}
	req.Host = host
	req.Header.Set("User-Agent", "rendercache-cachely-check/1")
	req.Header.Set("Accept", "text/html,*/*;q=0.8")
	start := time.Now()
	resp, err := cl.Do(req)
	p.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		p.Error = probeError(err, c.cfg.ProbeTimeout)
		return p
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBody))
	resp.Body.Close()
	h := resp.Header
	p.Status = resp.StatusCode
	p.Cache = strings.ToUpper(clip(h.Get("X-Cachely-Cache")))
	p.Version, p.Node = clip(h.Get("X-Cachely-Version")), clip(h.Get("X-Cachely-Node"))
	p.CacheStatus, p.CacheControl = clip(h.Get("Cache-Status")), clip(h.Get("Cache-Control"))
	p.SetCookie = len(h.Values("Set-Cookie")) > 0
	p.XCache = clip(h.Get("X-Cache"))
	return p
}

// clip bounds a header value echoed in the report.
func clip(s string) string {
	if len(s) > 256 {
		return s[:256]
	}
	return s
}

// probeError says why a probe failed without echoing addresses.
func probeError(err error, timeout time.Duration) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return "the host does not resolve"
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", timeout)
	case errors.Is(err, origin.ErrBlockedAddr):
		return "the host resolves to an address the origin policy does not allow"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:"):
		return "TLS handshake failed"
	}
	return "the request failed"
}

// verdict weighs the probes against the configuration: served is proven
// only by x-cachely-cache; a HIT proves caching; x-cachely-version is
// compared with the stored htmlCacheVersion.
func verdict(t tenant.Tenant, u, label string, ps []Probe) (string, string, []Item) {
	site := Item{ID: "website_proxy", Label: "Website proxy", State: Implemented,
		Detail: "The website origin " + t.WebsiteOrigin + " is configured; the " + label + " surface " + u + " was probed."}
	var served, hit *Probe
	for i := range ps {
		if ps[i].served() && served == nil {
			served = &ps[i]
		}
		if ps[i].Cache == "HIT" && hit == nil {
			hit = &ps[i]
		}
	}
	if served == nil {
		why := "no probe answer carried x-cachely-cache"
		if e := ps[len(ps)-1].Error; e != "" {
			why = "the probe failed: " + e
		} else if ps[len(ps)-1].XCache != "" {
			why += " (a generic x-cache header is not proof of Cachely)"
		}
		items := []Item{site,
			{ID: "edge_headers", Label: "Served through Cachely", State: NotDetected, Detail: "No Cachely edge headers at " + u + ": " + why + "."},
			{ID: "edge_cache", Label: "Edge caching", State: NotDetected, Detail: "Not measurable: the answers did not come through Cachely."},
			{ID: "html_version", Label: "HTML cache version", State: NotDetected, Detail: "No x-cachely-version header."}}
		return NotDetected, "Cachely was not detected on " + u + ": " + why + ".", items
	}
	headers := Item{ID: "edge_headers", Label: "Served through Cachely", State: Implemented,
		Detail: fmt.Sprintf("x-cachely-cache %s from node %q on probe %d.", served.Cache, served.Node, served.Attempt)}
	cache := cacheItem(ps, hit)
	version := versionItem(t, ps)
	items := []Item{site, headers, cache, version}
	last := ps[len(ps)-1]
	switch {
	case last.Status >= 400:
		return ActiveNeedsAttention, fmt.Sprintf("Cachely serves %s, but the page answered %d.", u, last.Status), items
	case cache.State != Implemented:
		return ActiveNeedsAttention, "Cachely serves " + u + ", but the page is not being cached: " + cache.Detail, items
	case version.State != Implemented:
		return ActiveNeedsAttention, "Cachely serves " + u + " from cache, but " + version.Detail, items
	}
	return Implemented, "Cachely serves and caches " + u + ".", items
}

// cacheItem says whether a probe was a HIT, and if none was, why.
func cacheItem(ps []Probe, hit *Probe) Item {
	it := Item{ID: "edge_cache", Label: "Edge caching", State: Implemented}
	if hit != nil {
		it.Detail = fmt.Sprintf("Probe %d was a HIT.", hit.Attempt)
		return it
	}
	it.State = ActiveNeedsAttention
	last := ps[len(ps)-1]
	cc := strings.ToLower(last.CacheControl)
	switch {
	case last.Cache == "BYPASS" && (strings.Contains(cc, "no-store") || strings.Contains(cc, "private") || strings.Contains(cc, "no-cache")):
		it.Detail = fmt.Sprintf("the origin sends Cache-Control %q, so every request goes to the origin (BYPASS).", last.CacheControl)
	case last.Cache == "BYPASS" && last.SetCookie:
		it.Detail = "the origin sets a cookie on the page, so it is never cached (BYPASS)."
	case last.Cache == "BYPASS":
		it.Detail = "every probe was a BYPASS: the page is passed through uncached."
	default:
		it.Detail = fmt.Sprintf("%d sequential requests never hit the cache (last: %s); check the cache TTL and the origin's Cache-Control %q.", len(ps), last.Cache, last.CacheControl)
	}
	return it
}

// versionItem compares x-cachely-version with the stored htmlCacheVersion.
func versionItem(t tenant.Tenant, ps []Probe) Item {
	it := Item{ID: "html_version", Label: "HTML cache version", State: Implemented}
	want := "html." + strconv.FormatUint(t.Versions.HTMLCacheVersion, 10)
	got := ps[len(ps)-1].Version
	switch {
	case got == want:
		it.Detail = "The edge serves " + got + ", the stored htmlCacheVersion."
	case got == "":
		it.State, it.Detail = ActiveNeedsAttention, "the answer carries no x-cachely-version (stored: "+want+")."
	default:
		it.State, it.Detail = ActiveNeedsAttention, fmt.Sprintf("the edge serves version %q while the stored one is %q: a cache refresh may still be reaching every node, or the probe reached another deployment.", got, want)
	}
	return it
}

// siteItems are the website rows when nothing was probed.
func siteItems(state, detail string) []Item {
	return []Item{
		{ID: "website_proxy", Label: "Website proxy", State: state, Detail: detail},
		{ID: "edge_headers", Label: "Served through Cachely", State: state, Detail: "Nothing to probe."},
		{ID: "edge_cache", Label: "Edge caching", State: state, Detail: "Nothing to probe."},
		{ID: "html_version", Label: "HTML cache version", State: state, Detail: "Nothing to probe."},
	}
}

// domainItem reports the custom domain's configuration status only.
func domainItem(domain string, err error, site bool) Item {
	it := Item{ID: "custom_domain", Label: "Custom domain", State: Implemented}
	switch {
	case err != nil:
		it.State, it.Detail = ActiveNeedsAttention, "The custom domains could not be read; the preview host was probed instead."
	case domain == "":
		it.State, it.Detail = NotEnabled, "No active custom domain: add and verify one to serve production traffic."
		if site {
			it.Detail += " The preview host was probed."
		}
	case site:
		it.Detail = domain + " is active and was probed as production."
	default:
		it.Detail = domain + " is active (configuration status only)."
	}
	return it
}

// apiItem reports the API proxy's configuration status only; the API
// Proxy test verifies it live.
func apiItem(t tenant.Tenant) Item {
	it := Item{ID: "api_proxy", Label: "CMS API proxy", State: Implemented}
	switch {
	case t.APIOrigin == "":
		it.State, it.Detail = NotEnabled, "No API origin is configured."
	case t.API.AuthMode != "" && t.API.AuthMode != tenant.AuthNone && !t.API.TokenSet:
		it.State, it.Detail = ActiveNeedsAttention, "The API origin "+t.APIOrigin+" uses "+t.API.AuthMode+" auth but no API token is stored. Configuration status only: run the API Proxy test for live verification."
	default:
		it.Detail = "The API origin " + t.APIOrigin + " is configured under /~api/. Configuration status only: run the API Proxy test for live verification."
	}
	return it
}
