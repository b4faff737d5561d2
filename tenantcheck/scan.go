package tenantcheck

import (
	"bytes"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// Contexts a reference is found in. The first group are resources a
// browser loads as it renders the page; the second are text that may
// only mention a URL.
const (
	ctxImg        = "img"
	ctxSource     = "source"
	ctxLink       = "link"
	ctxScript     = "script"
	ctxMedia      = "media"
	ctxCSS        = "css"
	ctxLinkHeader = "link_header"

	ctxInline    = "inline_script"
	ctxData      = "data"
	ctxCSP       = "csp"
	ctxAttribute = "attribute"
	ctxPage      = "page"
	ctxHeader    = "header"
)

// maxRefs bounds what one page's scan keeps.
const maxRefs = 10_000

// ref is a URL (or text) found in a context.
type ref struct{ ctx, val string }

// scanned is what the scan of one page found.
type scanned struct {
	resources []ref // URLs in resource contexts
	texts     []ref // text blobs that may mention URLs
	generator string
	ids       map[string]bool // element ids and script ids
	wf        bool            // <html data-wf-site|data-wf-page>
	framer    bool            // a data-framer-* attribute
}

func (s *scanned) resource(ctx, v string) {
	if v = strings.TrimSpace(v); v != "" && len(s.resources) < maxRefs {
		s.resources = append(s.resources, ref{ctx, v})
	}
}

func (s *scanned) text(ctx, v string) {
	if strings.TrimSpace(v) != "" && len(s.texts) < maxRefs {
		s.texts = append(s.texts, ref{ctx, v})
	}
}

// nonResourceRels are <link> relations that name a document, not
// something the browser fetches to render.
var nonResourceRels = map[string]bool{"canonical": true, "alternate": true, "author": true, "help": true,
	"license": true, "next": true, "prev": true, "search": true, "bookmark": true, "me": true, "shortlink": true}

// scanPage tokenizes body and collects references by context, and the
// response's Link and Content-Security-Policy headers.
func scanPage(body []byte, h http.Header) *scanned {
	s := &scanned{ids: map[string]bool{}}
	for _, l := range h.Values("Link") {
		for _, part := range strings.Split(l, ",") {
			if a, b := strings.IndexByte(part, '<'), strings.IndexByte(part, '>'); a >= 0 && b > a {
				s.resource(ctxLinkHeader, part[a+1:b])
			}
		}
	}
	for _, v := range h.Values("Content-Security-Policy") {
		s.text(ctxCSP, v)
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	textCtx := ""
	for {
		switch z.Next() {
		case html.ErrorToken:
			return s
		case html.StartTagToken:
			textCtx = s.tag(z.Token())
		case html.SelfClosingTagToken:
			s.tag(z.Token())
			textCtx = ""
		case html.TextToken:
			if textCtx != "" {
				s.textIn(textCtx, string(z.Text()))
			}
		case html.EndTagToken:
			textCtx = ""
		}
	}
}

// textIn files the text of a <script> or <style>.
func (s *scanned) textIn(ctx, t string) {
	if ctx == ctxCSS {
		for _, u := range cssURLs(t) {
			s.resource(ctxCSS, u)
		}
		return
	}
	s.text(ctx, t)
}

// resourceAttrs are the attributes of each tag that a browser loads.
var resourceAttrs = map[string][]string{
	"img": {"src", "srcset"}, "source": {"src", "srcset"}, "script": {"src"}, "link": {"href"},
	"video": {"src", "poster"}, "audio": {"src"}, "track": {"src"}, "embed": {"src"}, "iframe": {"src"},
}

// tagContext is the context of a tag's resource attributes.
var tagContext = map[string]string{"img": ctxImg, "source": ctxSource, "script": ctxScript, "link": ctxLink,
	"video": ctxMedia, "audio": ctxMedia, "track": ctxMedia, "embed": ctxMedia, "iframe": ctxMedia}

// tag files a start tag's attributes and returns the context of the text
// it contains ("" to ignore it).
func (s *scanned) tag(t html.Token) string {
	attr := make(map[string]string, len(t.Attr))
	for _, a := range t.Attr {
		attr[strings.ToLower(a.Key)] = a.Val
	}
	loads := resourceAttrs[t.Data]
	if t.Data == "link" && nonResourceRels[strings.ToLower(strings.TrimSpace(attr["rel"]))] {
		loads = nil
	}
	for k, v := range attr {
		switch {
		case slices.Contains(loads, k):
			if k == "srcset" {
				for _, c := range srcset(v) {
					s.resource(tagContext[t.Data], c)
				}
			} else {
				s.resource(tagContext[t.Data], v)
			}
		case k == "style":
			for _, u := range cssURLs(v) {
				s.resource(ctxCSS, u)
			}
		case k == "id":
			s.ids[v] = true
		case strings.HasPrefix(k, "data-framer"):
			s.framer = true
		case t.Data == "meta" && k == "content":
			// filed below
		case strings.Contains(v, "//") || strings.Contains(v, "/~api/") || strings.Contains(v, sdkMarker):
			// <a href>, data-*, og:image: mentions, not loads.
			s.text(ctxAttribute, v)
		}
	}
	switch t.Data {
	case "html":
		s.wf = attr["data-wf-site"] != "" || attr["data-wf-page"] != ""
	case "meta":
		switch {
		case strings.EqualFold(attr["name"], "generator"):
			s.generator = attr["content"]
		case strings.EqualFold(attr["http-equiv"], "content-security-policy"):
			s.text(ctxCSP, attr["content"])
		default:
			s.text(ctxAttribute, attr["content"])
		}
	case "script":
		if attr["src"] != "" {
			return ""
		}
		if strings.Contains(strings.ToLower(attr["type"]), "json") || attr["id"] == "__NEXT_DATA__" || attr["id"] == "__NUXT_DATA__" {
			return ctxData
		}
		return ctxInline
	case "style":
		return ctxCSS
	}
	return ""
}

// srcset returns the URLs of a srcset attribute.
func srcset(v string) []string {
	var out []string
	for _, c := range strings.Split(v, ",") {
		if f := strings.Fields(c); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

var cssURL = regexp.MustCompile(`(?i)url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)`)

// cssURLs returns the url() values of CSS text.
func cssURLs(css string) []string {
	var out []string
	for _, m := range cssURL.FindAllStringSubmatch(css, 200) {
		out = append(out, m[1]+m[2]+m[3])
	}
	return out
}

// textURL finds absolute and scheme-relative URLs, and /~api/ paths, in
// text (JSON-escaped slashes undone first).
var textURL = regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9][a-z0-9.-]*(?::[0-9]+)?(?:/[^\s"'<>()\\` + "`" + `,;]*)?|/~api/[^\s"'<>()\\` + "`" + `,;]*`)

// urlsIn returns the URLs text mentions, at most 500.
func urlsIn(text string) []string {
	text = strings.NewReplacer(`\/`, "/", `\u002F`, "/", `\u002f`, "/").Replace(text)
	return textURL.FindAllString(text, 500)
}
