package tenantcheck

import (
	"net/http"
	"strings"
)

// Platforms the website check recognises; Unknown when none matches.
const (
	Webflow   = "webflow"
	NextJS    = "nextjs"
	Nuxt      = "nuxt"
	Gatsby    = "gatsby"
	WordPress = "wordpress"
	Shopify   = "shopify"
	Framer    = "framer"
	Unknown   = "unknown"
)

// platformNames are the platforms' display names.
var platformNames = map[string]string{Webflow: "Webflow", NextJS: "Next.js", Nuxt: "Nuxt", Gatsby: "Gatsby",
	WordPress: "WordPress", Shopify: "Shopify", Framer: "Framer", Unknown: "The site"}

// detectPlatform names the platform that built the page from its
// markers. Builders are tried before frameworks (a Framer site is a
// React site too) and Gatsby before Next.js.
func detectPlatform(s *scanned, h http.Header) string {
	gen := strings.ToLower(s.generator)
	loads := func(subs ...string) bool {
		for _, r := range s.resources {
			v := strings.ToLower(r.val)
			for _, sub := range subs {
				if strings.Contains(v, sub) {
					return true
				}
			}
		}
		return false
	}
	says := func(subs ...string) bool {
		for _, t := range s.texts {
			if t.ctx != ctxInline && t.ctx != ctxData {
				continue
			}
			for _, sub := range subs {
				if strings.Contains(t.val, sub) {
					return true
				}
			}
		}
		return false
	}
	powered := strings.ToLower(h.Get("X-Powered-By"))
	switch {
	case s.wf || strings.Contains(gen, "webflow") || loads("website-files.com/", "uploads-ssl.webflow.com"):
		return Webflow
	case s.framer || strings.Contains(gen, "framer") || loads("framerusercontent.com", "events.framer.com"):
		return Framer
	case h.Get("X-Shopid") != "" || h.Get("X-Shopify-Stage") != "" || loads("cdn.shopify.com", "/cdn/shop/") || says("Shopify.theme", "window.Shopify"):
		return Shopify
	case strings.Contains(gen, "wordpress") || loads("/wp-content/", "/wp-includes/") || strings.Contains(strings.Join(h.Values("Link"), ","), "api.w.org"):
		return WordPress
	case s.ids["___gatsby"] || strings.Contains(gen, "gatsby") || loads("/page-data/"):
		return Gatsby
	case s.ids["__nuxt"] || s.ids["__NUXT_DATA__"] || strings.Contains(powered, "nuxt") || loads("/_nuxt/") || says("window.__NUXT__"):
		return Nuxt
	case s.ids["__NEXT_DATA__"] || s.ids["__next"] || strings.Contains(powered, "next.js") || loads("/_next/") || says("self.__next_f"):
		return NextJS
	}
	return Unknown
}

// serverRendered reports whether a platform renders pages on the server
// or at build time, where CMS calls leave no trace in the HTML.
func serverRendered(p string) bool { return p != Unknown }
