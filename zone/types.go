package zone

import (
	"mime"
	"path"
	"strings"
	"time"

	"github.com/pquerna/cachecontrol/cacheobject"
)

// Default freshness of assets whose origin sends no max-age, by kind
// (seed 003's table), and of what is not in it.
const (
	TTLStyle    = 24 * time.Hour     // CSS and JavaScript
	TTLFont     = 7 * 24 * time.Hour // fonts
	TTLImage    = 24 * time.Hour     // images
	TTLOther    = time.Hour          // anything else
	TTLNegative = 10 * time.Second   // an origin 404 is cached this long
	// TTLPass is how long a node remembers that an object is not cached
	// (no-store, private, too large) before it asks the origin again
	// through the cache.
	TTLPass = time.Minute
)

// contentTypes maps file extensions to the Content-Type assets are served
// with when the origin sends none or a generic one: the seed's table,
// then other common web types.
var contentTypes = map[string]string{
	".css":   "text/css",
	".js":    "application/javascript",
	".woff2": "font/woff2",
	".woff":  "font/woff",
	".png":   "image/png",
	".svg":   "image/svg+xml",

	".mjs":         "application/javascript",
	".map":         "application/json",
	".json":        "application/json",
	".html":        "text/html; charset=utf-8",
	".txt":         "text/plain; charset=utf-8",
	".xml":         "application/xml",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".eot":         "application/vnd.ms-fontobject",
	".mp4":         "video/mp4",
	".webm":        "video/webm",
	".mp3":         "audio/mpeg",
	".wasm":        "application/wasm",
	".pdf":         "application/pdf",
	".webmanifest": "application/manifest+json",
}

// ContentType returns the type of the asset at p from its extension, ""
// when the extension is not known.
func ContentType(p string) string {
	return contentTypes[strings.ToLower(path.Ext(p))]
}

// genericTypes are origin types that say nothing: the extension's wins.
var genericTypes = map[string]bool{"": true, "application/octet-stream": true, "binary/octet-stream": true, "application/unknown": true, "text/plain": true}

// TypeFor returns the Content-Type to serve p with, given the origin's:
// the origin's unless it is missing or generic and the extension is
// known.
func TypeFor(p, fromOrigin string) string {
	mt, _, _ := mime.ParseMediaType(fromOrigin)
	if !genericTypes[mt] {
		return fromOrigin
	}
	if ct := ContentType(p); ct != "" {
		return ct
	}
	return fromOrigin
}

// DefaultTTL returns the freshness of an asset of type contentType
// (TypeFor's answer) whose origin gave none.
func DefaultTTL(contentType string) time.Duration {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "text/css", mt == "application/javascript", mt == "text/javascript":
		return TTLStyle
	case strings.HasPrefix(mt, "font/"), mt == "application/vnd.ms-fontobject", mt == "application/font-woff":
		return TTLFont
	case strings.HasPrefix(mt, "image/"):
		return TTLImage
	}
	return TTLOther
}

// Freshness reads an origin's Cache-Control (RFC 9111, parsed by
// pquerna/cachecontrol): whether the answer may be stored by a shared
// cache at all (not with no-store, private or no-cache: this cache does
// not revalidate on every request), and its lifetime when it says
// (s-maxage over max-age); ok false means it does not say. A header that
// does not parse (a malformed delta-seconds) is not stored: the origin's
// intent is unknown.
func Freshness(cacheControl string) (store bool, ttl time.Duration, ok bool) {
	if cacheControl == "" {
		return true, 0, false
	}
	cd, err := cacheobject.ParseResponseCacheControl(cacheControl)
	if err != nil {
		return false, 0, false
	}
	store = !cd.NoStore && !cd.PrivatePresent && !cd.NoCachePresent
	switch {
	case cd.SMaxAge >= 0:
		return store, time.Duration(cd.SMaxAge) * time.Second, true
	case cd.MaxAge >= 0:
		return store, time.Duration(cd.MaxAge) * time.Second, true
	}
	return store, 0, false
}
