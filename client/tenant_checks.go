package client

import (
	"context"
	"net/http"
)

// TenantCheckItem is one row of a cachely-check: a live finding or a
// configuration status.
type TenantCheckItem struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	State  string `json:"state"`
	Detail string `json:"detail"`
}

// TenantCheckProbe is what one GET of the website surface saw; Cache is
// x-cachely-cache ("" when absent).
type TenantCheckProbe struct {
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

// TenantCachelyCheck is a cachely-check's report. State is implemented,
// active_needs_attention, not_detected or not_enabled; ProbeURL and
// SurfaceLabel (production or preview) are nil when nothing was probed.
type TenantCachelyCheck struct {
	State        string             `json:"state"`
	Headline     string             `json:"headline"`
	ProbeURL     *string            `json:"probeUrl"`
	SurfaceLabel *string            `json:"surfaceLabel"`
	Items        []TenantCheckItem  `json:"items"`
	Probes       []TenantCheckProbe `json:"probes"`
}

// TenantCheckSignal is one piece of evidence of a website check.
type TenantCheckSignal struct {
	Kind    string `json:"kind"`
	Context string `json:"context"`
	Match   string `json:"match"`
}

// TenantWebsiteAnalysis is what a website check found in the page.
type TenantWebsiteAnalysis struct {
	CachelyUsage     string              `json:"cachelyUsage"`
	CachelySignals   []TenantCheckSignal `json:"cachelySignals"`
	DirectCMSUsage   string              `json:"directCmsUsage"`
	DirectCMSSignals []TenantCheckSignal `json:"directCmsSignals"`
	CMSLabel         string              `json:"cmsLabel"`
	VerdictState     string              `json:"verdictState"`
	Verdict          string              `json:"verdict"`
	Truncated        bool                `json:"truncated"`
}

// TenantWebsiteCheck is a website-implementation-check's answer: when
// OK, Platform and Analysis; else Error (a code such as product_domain or
// fetch_failed) and Message. Both are 200 answers, not errors.
type TenantWebsiteCheck struct {
	OK       bool                   `json:"ok"`
	FinalURL *string                `json:"finalUrl"`
	Platform string                 `json:"platform,omitempty"`
	Analysis *TenantWebsiteAnalysis `json:"analysis,omitempty"`
	Error    string                 `json:"error,omitempty"`
	Message  string                 `json:"message,omitempty"`
}

// TenantCachelyCheck probes the tenant's website surface and reports
// whether it is served and cached through the proxy. Read-only.
func (c *Client) TenantCachelyCheck(ctx context.Context, slug string) (TenantCachelyCheck, error) {
	var out TenantCachelyCheck
	err := c.call(ctx, request{method: http.MethodPost, path: tenantPath(slug) + "/cachely-check", auth: c.session()}, &out)
	return out, err
}

// TenantWebsiteCheck fetches the public website at url and reports
// whether its code routes through the proxy or calls the CMS directly.
// Read-only.
func (c *Client) TenantWebsiteCheck(ctx context.Context, slug, url string) (TenantWebsiteCheck, error) {
	var out TenantWebsiteCheck
	err := c.call(ctx, request{method: http.MethodPost, path: tenantPath(slug) + "/website-implementation-check", auth: c.session(), body: map[string]string{"url": url}}, &out)
	return out, err
}
