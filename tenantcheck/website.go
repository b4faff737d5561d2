package tenantcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/tenant"
)

// Error codes of a website check that could not analyse a page.
const (
	ErrCodeInvalidURL    = "invalid_url"
	ErrCodeProductDomain = "product_domain"
	ErrCodeBlocked       = "blocked_url"
	ErrCodeFetch         = "fetch_failed"
	ErrCodeStatus        = "http_error"
	ErrCodeNotHTML       = "not_html"
	ErrCodeRedirects     = "too_many_redirects"
)

// Usage values of the analysis.
const (
	Detected     = "detected"
	Potential    = "potential"
	Inconclusive = "inconclusive"
	// Verdicts beside Implemented and Inconclusive.
	Mixed    = "mixed"
	NotUsing = "not_using"
)

// sdkMarker is the name of Cachely's client SDK package.
const sdkMarker = "@cachely-io/sdk"

// maxSignals bounds each list of signals in a report.
const maxSignals = 25

// WebsiteReport is POST website-implementation-check's answer: Platform
// and Analysis when OK, else Error (a code) and Message.
type WebsiteReport struct {
	OK       bool      `json:"ok"`
	FinalURL *string   `json:"finalUrl"`
	Platform string    `json:"platform,omitempty"`
	Analysis *Analysis `json:"analysis,omitempty"`
	Error    string    `json:"error,omitempty"`
	Message  string    `json:"message,omitempty"`
}

// Analysis is what the page shows of the site's code.
type Analysis struct {
	CachelyUsage     string   `json:"cachelyUsage"`
	CachelySignals   []Signal `json:"cachelySignals"`
	DirectCMSUsage   string   `json:"directCmsUsage"`
	DirectCMSSignals []Signal `json:"directCmsSignals"`
	CMSLabel         string   `json:"cmsLabel"`
	VerdictState     string   `json:"verdictState"`
	Verdict          string   `json:"verdict"`
	Truncated        bool     `json:"truncated"`
}

// Signal is one piece of evidence: what it is (Kind), where it was found
// (Context: img, source, link, script, media, css, link_header for
// resources the browser loads; inline_script, data, csp, attribute,
// header for mentions) and the matched URL or value.
type Signal struct {
	Kind    string `json:"kind"`
	Context string `json:"context"`
	Match   string `json:"match"`
}

// Signal kinds.
const (
	kindTenantHost = "tenant_host"
	kindCustom     = "custom_domain"
	kindAPIPath    = "api_path"
	kindSDK        = "sdk"
	kindEdge       = "edge_header"
	kindCMS        = "cms_host"
)

func failed(final *url.URL, code, msg string) WebsiteReport {
	r := WebsiteReport{Error: code, Message: msg}
	if final != nil {
		s := final.String()
		r.FinalURL = &s
	}
	return r
}

// Website fetches raw (the customer's public site) and analyses its
// HTML for t. Validation and fetch failures are reports with OK false,
// never errors. It changes nothing.
func (c *Checker) Website(ctx context.Context, t tenant.Tenant, raw string) WebsiteReport {
	u, msg := normalizeSiteURL(raw)
	if u == nil {
		return failed(nil, ErrCodeInvalidURL, msg)
	}
	if c.productHost(u.Hostname()) {
		return failed(u, ErrCodeProductDomain, "This is a Cachely URL: enter the public website's own URL (the site your visitors load), not the proxy's.")
	}
	o := origin.Origin{Scheme: u.Scheme, Host: strings.Trim(strings.ToLower(u.Hostname()), "[]")}
	if err := c.cfg.Policy.CheckOrigin(ctx, c.cfg.Resolver, o); err != nil {
		if errors.Is(err, origin.ErrBlockedAddr) {
			return failed(u, ErrCodeBlocked, origin.ErrBlockedAddr.Error())
		}
		return failed(u, ErrCodeFetch, "The site could not be fetched: the host does not resolve.")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.FetchTimeout)
	defer cancel()
	body, truncated, resp, rep := c.fetch(ctx, u)
	if resp == nil {
		return rep
	}
	final := resp.Request.URL
	s := scanPage(body, resp.Header)
	platform := detectPlatform(s, resp.Header)
	a := c.analyse(t, s, resp.Header, platform)
	a.Truncated = truncated
	fs := final.String()
	return WebsiteReport{OK: true, FinalURL: &fs, Platform: platform, Analysis: &a}
}

// normalizeSiteURL accepts what a customer types ("example.com" gets
// https://) and returns an http(s) URL with a host, or why not.
func normalizeSiteURL(raw string) (*url.URL, string) {
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, "The URL is not valid."
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, "The URL must start with http:// or https://."
	case u.Hostname() == "":
		return nil, "The URL has no host."
	case u.User != nil:
		return nil, "The URL must not carry a user name or password."
	}
	u.Fragment = ""
	return u, ""
}

// checkRedirect bounds the website fetch's redirects and refuses one to
// a product host or another scheme; the dial guard checks addresses.
func (c *Checker) checkRedirect(req *http.Request, via []*http.Request) error {
	switch {
	case len(via) > c.cfg.MaxRedirects:
		return errRedirects
	case req.URL.Scheme != "http" && req.URL.Scheme != "https":
		return errRedirectScheme
	case c.productHost(req.URL.Hostname()):
		return errRedirectProduct
	}
	return nil
}

var (
	errRedirects       = errors.New("too many redirects")
	errRedirectScheme  = errors.New("redirect to a scheme other than http or https")
	errRedirectProduct = errors.New("redirect to a Cachely host")
)

// fetch GETs u and reads at most MaxBody bytes of an HTML answer
// (truncated: there was more). On failure resp is nil and the report
// says why.
func (c *Checker) fetch(ctx context.Context, u *url.URL) (body []byte, truncated bool, resp *http.Response, rep WebsiteReport) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, false, nil, failed(u, ErrCodeInvalidURL, "The URL is not valid.")
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (compatible; rendercache-site-check/1)")
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
	resp, err = c.site.Do(req)
	if err != nil {
		return nil, false, nil, c.fetchFailure(u, err)
	}
	defer resp.Body.Close()
	final := resp.Request.URL
	if resp.StatusCode >= 400 {
		return nil, false, nil, failed(final, ErrCodeStatus, fmt.Sprintf("The site answered %d %s.", resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	if resp.StatusCode >= 300 {
		return nil, false, nil, failed(final, ErrCodeFetch, fmt.Sprintf("The site answered %d without a usable redirect.", resp.StatusCode))
	}
	ct := resp.Header.Get("Content-Type")
	if ct != "" && !isHTML(ct) {
		return nil, false, nil, failed(final, ErrCodeNotHTML, fmt.Sprintf("The URL answered %q, not an HTML page.", clip(ct)))
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBody+1))
	if err != nil && len(body) == 0 {
		return nil, false, nil, c.fetchFailure(final, err)
	}
	// A body cut short by an error is analysed as far as it came.
	truncated = err != nil
	if int64(len(body)) > c.cfg.MaxBody {
		body, truncated = body[:c.cfg.MaxBody], true
	}
	if ct == "" && !isHTML(http.DetectContentType(body)) {
		return nil, false, nil, failed(final, ErrCodeNotHTML, "The URL did not answer an HTML page.")
	}
	return body, truncated, resp, WebsiteReport{}
}

// isHTML reports whether a Content-Type is an HTML page's.
func isHTML(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// fetchFailure explains a failed fetch without echoing addresses.
func (c *Checker) fetchFailure(u *url.URL, err error) WebsiteReport {
	var ue *url.Error
	if errors.As(err, &ue) && ue.URL != "" {
		if v, perr := url.Parse(ue.URL); perr == nil {
			u = v
		}
	}
	var dns *net.DNSError
	switch {
	case errors.Is(err, errRedirects):
		return failed(u, ErrCodeRedirects, fmt.Sprintf("The site redirected more than %d times.", c.cfg.MaxRedirects))
	case errors.Is(err, errRedirectProduct):
		return failed(u, ErrCodeProductDomain, "The site redirects to a Cachely host: enter the public website's own URL.")
	case errors.Is(err, errRedirectScheme):
		return failed(u, ErrCodeFetch, "The site redirects to a URL that is not http or https.")
	case errors.Is(err, origin.ErrBlockedAddr):
		return failed(u, ErrCodeBlocked, origin.ErrBlockedAddr.Error())
	case errors.As(err, &dns):
		return failed(u, ErrCodeFetch, "The site could not be fetched: the host does not resolve.")
	}
	return failed(u, ErrCodeFetch, "The site could not be fetched: "+probeError(err, c.cfg.FetchTimeout)+".")
}
