// Package crawler decides which requests get a pre-rendered page: search
// engines, social-preview fetchers and AI crawlers do, people do not. It
// also picks the render variant (desktop or mobile) from the user agent,
// because crawlers index the mobile and desktop pages separately.
package crawler

import (
	"net/http"
	"path"
	"strings"
	"sync"
)

// Agents are substrings (lowercase) of the user agents that get rendered
// pages. The list follows prerender's and adds AI crawlers; keep it sorted
// by family.
var Agents = []string{
	// search engines
	"googlebot", "google-inspectiontool", "adsbot-google", "mediapartners-google", "storebot-google",
	"bingbot", "bingpreview", "msnbot", "yandex", "baiduspider", "duckduckbot", "slurp",
	"applebot", "seznambot", "naver", "sogou", "exabot", "petalbot", "qwantify", "mojeekbot",
	// social previews and chat unfurlers
	"facebookexternalhit", "facebookcatalog", "meta-externalagent", "twitterbot", "linkedinbot",
	"pinterest", "redditbot", "slackbot", "discordbot", "telegrambot", "whatsapp", "skypeuripreview",
	"vkshare", "w3c_validator", "embedly", "quora link preview", "tumblr", "bitlybot", "flipboard",
	"nuzzel", "outbrain", "rogerbot", "showyoubot", "developers.google.com/+/web/snippet", "chrome-lighthouse",
	// AI crawlers and assistants
	"gptbot", "chatgpt-user", "oai-searchbot", "claudebot", "claude-web", "claude-user", "claude-searchbot",
	"anthropic-ai", "perplexitybot", "perplexity-user", "google-extended", "ccbot", "bytespider",
	"amazonbot", "youbot", "cohere-ai", "diffbot", "meta-externalfetcher", "mistralai-user", "duckassistbot",
}

// mobileMarkers mark a mobile user agent (Googlebot Smartphone says
// "Mobile", Android browsers "Android").
var mobileMarkers = []string{"mobile", "android", "iphone", "ipod", "blackberry", "opera mini", "windows phone"}

// staticExtensions are never rendered: they are assets, not pages.
var staticExtensions = map[string]bool{
	".js": true, ".mjs": true, ".css": true, ".xml": true, ".txt": true, ".json": true, ".map": true,
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".avif": true, ".svg": true, ".ico": true, ".bmp": true, ".tif": true, ".tiff": true,
	".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true,
	".mp4": true, ".webm": true, ".mp3": true, ".ogg": true, ".wav": true, ".m4a": true, ".m4v": true, ".mov": true, ".avi": true, ".flv": true, ".mpg": true, ".mpeg": true,
	".pdf": true, ".doc": true, ".docx": true, ".xls": true, ".xlsx": true, ".ppt": true, ".pptx": true,
	".zip": true, ".gz": true, ".tgz": true, ".rar": true, ".7z": true, ".dmg": true, ".exe": true, ".iso": true, ".apk": true, ".rss": true, ".atom": true, ".wasm": true,
}

// Class is what a user agent is: a crawler or not, mobile or not.
type Class uint8

// Class bits.
const (
	Crawler Class = 1 << iota // gets rendered pages
	Mobile                    // gets the mobile render
)

// maxCachedAgents bounds the user agents Classify remembers. Real
// traffic has a few hundred distinct agents; a client that sends a new
// one per request only stops the cache from growing, and each of its
// requests pays for the match.
const maxCachedAgents = 4096

// agents remembers the class of user agents seen, so that a cache hit
// matches none of the 70 substrings again.
var agents = struct {
	mu sync.RWMutex
	m  map[string]Class
}{m: make(map[string]Class)}

// Classify returns the class of userAgent. A user agent seen before costs
// one map lookup; it never allocates. Safe for concurrent use.
func Classify(userAgent string) Class {
	agents.mu.RLock()
	c, ok := agents.m[userAgent]
	agents.mu.RUnlock()
	if ok {
		return c
	}
	c = classify(userAgent)
	agents.mu.Lock()
	if len(agents.m) < maxCachedAgents {
		agents.m[userAgent] = c
	}
	agents.mu.Unlock()
	return c
}

// classify matches userAgent against Agents and mobileMarkers.
func classify(userAgent string) Class {
	ua := strings.ToLower(userAgent)
	var c Class
	for _, a := range Agents {
		if strings.Contains(ua, a) {
			c |= Crawler
			break
		}
	}
	for _, m := range mobileMarkers {
		if strings.Contains(ua, m) {
			c |= Mobile
			break
		}
	}
	return c
}

// IsCrawler reports whether the user agent is a known crawler.
func IsCrawler(userAgent string) bool { return Classify(userAgent)&Crawler != 0 }

// ShouldRender reports whether r gets a rendered page: a GET or HEAD from a
// crawler (or carrying the AJAX-crawling `_escaped_fragment_` parameter)
// for something that is not a static asset.
func ShouldRender(r *http.Request) bool {
	_, ok := Inspect(r)
	return ok
}

// Inspect returns the class of r's user agent and whether r gets a
// rendered page (ShouldRender), reading the User-Agent field once: the
// serve path asks both on every hit. It never allocates for an agent seen
// before.
func Inspect(r *http.Request) (Class, bool) {
	var ua string
	if v := r.Header["User-Agent"]; len(v) > 0 {
		ua = v[0]
	}
	c := Classify(ua)
	if r.Method != http.MethodGet && r.Method != http.MethodHead || IsStatic(r.URL.Path) {
		return c, false
	}
	// Parse the query only when it may hold the parameter: most requests
	// have no query at all.
	if strings.Contains(r.URL.RawQuery, "_escaped_fragment_") {
		if _, ok := r.URL.Query()["_escaped_fragment_"]; ok {
			return c, true
		}
	}
	return c, c&Crawler != 0
}

// IsStatic reports whether the path names a static asset by its extension.
func IsStatic(p string) bool {
	return staticExtensions[strings.ToLower(path.Ext(p))]
}

// IsMobile reports whether the user agent is a mobile one, whose page is
// cached apart from the desktop page.
func IsMobile(userAgent string) bool { return Classify(userAgent)&Mobile != 0 }
