package render

import "strings"

// DefaultBlocklist holds URL substrings of analytics, advertising and
// session-recording services. Their scripts never change what a crawler
// should see, and they slow renders down and pollute the customer's
// analytics with crawler visits.
var DefaultBlocklist = []string{
	"google-analytics.com", "googletagmanager.com", "googlesyndication.com", "googleadservices.com",
	"doubleclick.net", "adservice.google.", "stats.g.doubleclick.net",
	"connect.facebook.net", "facebook.com/tr", "analytics.tiktok.com", "snap.licdn.com", "ads.linkedin.com",
	"static.ads-twitter.com", "analytics.twitter.com", "bat.bing.com", "clarity.ms",
	"hotjar.com", "hotjar.io", "fullstory.com", "mouseflow.com", "crazyegg.com", "luckyorange.com", "inspectlet.com",
	"cdn.segment.com", "api.segment.io", "cdn.mxpnl.com", "api.mixpanel.com", "api-js.mixpanel.com", "amplitude.com",
	"heap.io", "heapanalytics.com", "plausible.io", "cdn.usefathom.com", "matomo.cloud", "quantserve.com", "scorecardresearch.com",
	"newrelic.com", "nr-data.net", "sentry.io", "browser.sentry-cdn.com", "js-agent.newrelic.com",
	"intercom.io", "widget.intercom.io", "js.driftt.com", "drift.com", "zdassets.com", "tawk.to", "crisp.chat", "livechatinc.com",
	"optimizely.com", "cdn.optimizely.com", "adroll.com", "taboola.com", "outbrain.com", "criteo.com", "criteo.net", "amazon-adsystem.com",
}

// blocked reports whether url matches one of the patterns. A pattern is a
// substring; "*" inside it matches any run of characters.
func blocked(url string, patterns []string) bool {
	u := strings.ToLower(url)
	for _, p := range patterns {
		if p != "" && match(u, strings.ToLower(p)) {
			return true
		}
	}
	return false
}

// match reports whether the glob pattern occurs anywhere in s.
func match(s, pattern string) bool {
	parts := strings.Split(pattern, "*")
	i := strings.Index(s, parts[0])
	if i < 0 {
		return false
	}
	s = s[i+len(parts[0]):]
	for _, part := range parts[1:] {
		j := strings.Index(s, part)
		if j < 0 {
			return false
		}
		s = s[j+len(part):]
	}
	return true
}
