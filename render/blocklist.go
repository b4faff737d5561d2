package render

import (
	"net/url"
	"strings"

	"github.com/chromedp/cdproto/network"
)

// DefaultBlocklist holds URL substrings of analytics, advertising,
// session-recording and chat services. Their scripts never change what a
// crawler should see; they slow renders down and count crawler visits in
// the customer's analytics. An entry matches the host and path of a URL
// (not its query, so "?ref=hotjar.com" is not blocked); "*" in an entry
// matches any run of characters.
var DefaultBlocklist = []string{
	"google-analytics.com", "googletagmanager.com", "googlesyndication.com", "googleadservices.com",
	"doubleclick.net", "adservice.google.",
	"connect.facebook.net", "facebook.com/tr", "analytics.tiktok.com", "snap.licdn.com", "ads.linkedin.com",
	"static.ads-twitter.com", "analytics.twitter.com", "bat.bing.com", "clarity.ms",
	"hotjar.com", "hotjar.io", "fullstory.com", "mouseflow.com", "crazyegg.com", "luckyorange.com", "inspectlet.com",
	"cdn.segment.com", "api.segment.io", "cdn.mxpnl.com", "api.mixpanel.com", "api-js.mixpanel.com", "amplitude.com",
	"heap.io", "heapanalytics.com", "plausible.io", "cdn.usefathom.com", "matomo.cloud", "quantserve.com", "scorecardresearch.com",
	"nr-data.net", "js-agent.newrelic.com", "browser.sentry-cdn.com", "ingest.sentry.io",
	"widget.intercom.io", "js.intercomcdn.com", "js.driftt.com", "zdassets.com", "embed.tawk.to", "client.crisp.chat", "cdn.livechatinc.com",
	"cdn.optimizely.com", "logx.optimizely.com", "adroll.com", "taboola.com", "outbrain.com", "criteo.com", "criteo.net", "amazon-adsystem.com",
}

// resourceTypes are refused unless a request allows resources: crawlers
// read HTML, and these only cost bandwidth and time.
var resourceTypes = map[network.ResourceType]bool{
	network.ResourceTypeImage:     true,
	network.ResourceTypeMedia:     true,
	network.ResourceTypeFont:      true,
	network.ResourceTypeTextTrack: true,
}

// noiseTypes are always refused: beacons, CSP reports and manifests have
// side effects on the origin or nothing to do with the page's HTML.
var noiseTypes = map[network.ResourceType]bool{
	network.ResourceTypePing:               true,
	network.ResourceTypeCSPViolationReport: true,
	network.ResourceTypeManifest:           true,
}

// blocker decides which of a render's requests are refused. It is
// immutable once built, so the tab's handlers share it.
type blocker struct {
	extra          [][]string // the request's patterns, lowercased and split at "*"; matched on the whole URL
	allowResources bool
	types          map[network.ResourceType]bool // refused types; resourceTypes unless the request names its own
	allowTrackers  bool
}

// TypeNames maps the resource type names a domain may block
// (render.blockResources) to Chromium's types.
var TypeNames = map[string]network.ResourceType{
	"image": network.ResourceTypeImage, "media": network.ResourceTypeMedia, "font": network.ResourceTypeFont,
	"stylesheet": network.ResourceTypeStylesheet, "other": network.ResourceTypeOther,
}

// blockerFor builds the blocker of a request.
func blockerFor(r Request) *blocker {
	b := newBlocker(r.Block, r.AllowResources)
	b.allowTrackers = r.AllowTrackers
	if r.BlockTypes != nil {
		b.types = map[network.ResourceType]bool{}
		for _, n := range r.BlockTypes {
			if t, ok := TypeNames[n]; ok {
				b.types[t] = true
			}
		}
	}
	return b
}

func newBlocker(extra []string, allowResources bool) *blocker {
	b := &blocker{allowResources: allowResources, types: resourceTypes}
	for _, p := range extra {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			b.extra = append(b.extra, strings.Split(p, "*"))
		}
	}
	return b
}

// blocks reports whether a request for rawURL of type rt is refused.
func (b *blocker) blocks(rawURL string, rt network.ResourceType) bool {
	if noiseTypes[rt] || (b.types[rt] && !b.allowResources) {
		return true
	}
	full := strings.ToLower(rawURL)
	for _, p := range b.extra {
		if matchParts(full, p) {
			return true
		}
	}
	if b.allowTrackers {
		return false
	}
	hostPath := full
	if u, err := url.Parse(full); err == nil {
		hostPath = u.Host + u.EscapedPath()
	}
	for _, p := range defaultPatterns {
		if matchParts(hostPath, p) {
			return true
		}
	}
	return false
}

// defaultPatterns is DefaultBlocklist split at "*" once: blocks runs for
// every request a page makes.
var defaultPatterns = func() [][]string {
	out := make([][]string, len(DefaultBlocklist))
	for i, p := range DefaultBlocklist {
		out[i] = strings.Split(strings.ToLower(p), "*")
	}
	return out
}()

// match reports whether the glob pattern (substrings joined by "*")
// occurs anywhere in s. Both are lowercase.
func match(s, pattern string) bool { return matchParts(s, strings.Split(pattern, "*")) }

// matchParts is match for a pattern already split at "*".
func matchParts(s string, parts []string) bool {
	for _, part := range parts {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return true
}
