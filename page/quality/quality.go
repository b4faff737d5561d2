// Package quality is the render tier's quality guard: it decides whether
// a background re-render of a page (stale-while-revalidate, proactive
// recache, a webhook refresh, a guarded Cache API refresh) may replace the
// copy already cached, so that an origin having a bad moment — an empty
// app shell, a 500, a page without its title — does not overwrite a good
// page that crawlers have been served. It is pure: Judge compares two
// pages and returns a verdict, and the caller keeps, replaces and retries.
package quality

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// MinTextRatio is the documented fraction: a re-render whose visible text
// is shorter than this share of the cached page's is clearly worse.
const MinTextRatio = 0.3

// MinJudgedText is the cached page's visible text length (in characters,
// whitespace collapsed) below which shrinking text is not judged by ratio:
// small pages vary too much. Losing all text is always worse.
const MinJudgedText = 64

// Reason names why a re-render was judged worse; metrics, logs and job
// statuses use it.
type Reason string

// Reasons.
const (
	StatusWorse Reason = "status"     // 2xx became an error status
	Empty       Reason = "empty"      // the body is empty
	TextShrank  Reason = "text"       // visible text below MinTextRatio of the old
	TitleLost   Reason = "title"      // the <title> disappeared
	CanonLost   Reason = "canonical"  // the canonical link disappeared
	SoftError   Reason = "soft-error" // a soft-error marker appeared
)

// Reasons lists every Reason, for metrics that export each label.
var Reasons = []Reason{StatusWorse, Empty, TextShrank, TitleLost, CanonLost, SoftError}

// Page is what Judge looks at of one render.
type Page struct {
	Status      int
	ContentType string
	Body        []byte
}

// Options tune a judgement.
type Options struct {
	// SoftErrorMarkers are phrases (matched case-insensitively in the
	// title and visible text) that mark a soft error page. A marker
	// counts only when the cached page does not contain it too.
	SoftErrorMarkers []string
	// LastRejected is the status of the previous render of the same page
	// if the guard rejected it, else 0: a 404 or 410 that the origin
	// confirms on two consecutive renders is accepted.
	LastRejected int
}

// Verdict is Judge's answer.
type Verdict struct {
	// OK means the new render may replace the old one.
	OK bool
	// Reason and Detail say why not (Detail for people and logs).
	Reason Reason
	Detail string
}

func worse(r Reason, format string, args ...any) Verdict {
	return Verdict{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Gone reports whether status says the page was removed (404, 410): the
// one error a re-render may bring once the origin confirms it.
func Gone(status int) bool { return status == 404 || status == 410 }

// Judge decides whether next may replace old. A re-render is clearly worse
// when its status went from 2xx to an error (400 and up; a 404 or 410 the
// previous rejected render also got is accepted), its body is empty, its
// visible text shrank below MinTextRatio of the old page's, its <title> or
// canonical link disappeared, or a soft-error marker appeared. Anything
// else is accepted, redirects included: the guard keeps out breakage,
// not change.
func Judge(old, next Page, o Options) Verdict {
	if old.Status < 200 || old.Status > 299 {
		return Verdict{OK: true} // nothing good to protect
	}
	if next.Status >= 400 {
		if Gone(next.Status) && Gone(o.LastRejected) {
			return Verdict{OK: true}
		}
		if Gone(next.Status) {
			return worse(StatusWorse, "the origin answered %d where the cached page is %d; accepted if the next render confirms it", next.Status, old.Status)
		}
		return worse(StatusWorse, "the origin answered %d where the cached page is %d", next.Status, old.Status)
	}
	if next.Status >= 300 {
		return Verdict{OK: true}
	}
	if len(bytes.TrimSpace(next.Body)) == 0 {
		return worse(Empty, "the re-render's body is empty")
	}
	if !isHTML(old) || !isHTML(next) {
		return Verdict{OK: true}
	}
	a, b := Analyze(old.Body), Analyze(next.Body)
	if a.Title != "" && b.Title == "" {
		return worse(TitleLost, "the page lost its <title> (was %q)", clip(a.Title))
	}
	if a.Canonical != "" && b.Canonical == "" {
		return worse(CanonLost, "the page lost its canonical link (was %q)", clip(a.Canonical))
	}
	if shrank(a.TextLen, b.TextLen) {
		return worse(TextShrank, "visible text shrank from %d to %d characters (below %.0f%%)", a.TextLen, b.TextLen, MinTextRatio*100)
	}
	if m := newMarker(a, b, o.SoftErrorMarkers); m != "" {
		return worse(SoftError, "the page shows the soft-error marker %q", m)
	}
	return Verdict{OK: true}
}

// shrank reports whether visible text went from a to b characters in a
// way that is clearly worse.
func shrank(a, b int) bool {
	if a > 0 && b == 0 {
		return true
	}
	return a >= MinJudgedText && float64(b) < MinTextRatio*float64(a)
}

// newMarker returns the first marker found in next's title or text and not
// in old's, or "".
func newMarker(old, next Summary, markers []string) string {
	for _, m := range markers {
		lm := strings.ToLower(strings.TrimSpace(m))
		if lm == "" {
			continue
		}
		if (strings.Contains(next.lowerTitle, lm) || strings.Contains(next.lowerText, lm)) &&
			!strings.Contains(old.lowerTitle, lm) && !strings.Contains(old.lowerText, lm) {
			return m
		}
	}
	return ""
}

func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	i := 80
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// isHTML reports whether p is an HTML document, by its Content-Type or,
// without one, by its first byte.
func isHTML(p Page) bool {
	if p.ContentType != "" {
		return strings.Contains(strings.ToLower(p.ContentType), "html")
	}
	b := bytes.TrimSpace(p.Body)
	return len(b) > 0 && b[0] == '<'
}

// Summary is what Judge reads of an HTML document.
type Summary struct {
	// Title is the first <title>'s text, whitespace collapsed.
	Title string
	// Canonical is the first <link rel="canonical">'s href.
	Canonical string
	// TextLen counts the characters of the visible text (outside head,
	// script, style, noscript and template), whitespace collapsed.
	TextLen int

	lowerTitle, lowerText string
}

// maxTextKept bounds the visible text kept for marker matching.
const maxTextKept = 64 << 10

// Analyze reads the title, canonical link and visible text of an HTML
// document; it never fails (the tokenizer is as lenient as browsers).
func Analyze(doc []byte) Summary {
	var s Summary
	var text, title strings.Builder
	z := html.NewTokenizer(bytes.NewReader(doc))
	hidden := 0 // depth inside elements whose text is not visible
	inTitle, seenTitle := false, false
	space := true // the last character written was a space
	for {
		switch z.Next() {
		case html.ErrorToken:
			s.Title = collapse(title.String())
			s.lowerTitle = strings.ToLower(s.Title)
			s.lowerText = strings.ToLower(text.String())
			return s
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "style", "noscript", "template", "head":
				if tok.Type == html.StartTagToken {
					hidden++
				}
			case "body":
				hidden = 0 // a head left open ends here
			case "title":
				inTitle = !seenTitle && tok.Type == html.StartTagToken
				seenTitle = true
			case "link":
				if s.Canonical == "" && hasRel(tok, "canonical") {
					s.Canonical = strings.TrimSpace(attr(tok, "href"))
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template", "head":
				hidden = max(hidden-1, 0)
			case "title":
				inTitle = false
			}
		case html.TextToken:
			t := z.Text()
			if inTitle {
				title.Write(t)
				continue
			}
			if hidden > 0 {
				continue
			}
			for _, r := range string(t) {
				if unicode.IsSpace(r) {
					if !space {
						space = true
						writeKept(&text, ' ')
					}
					continue
				}
				space = false
				s.TextLen++
				writeKept(&text, r)
			}
		}
	}
}

func writeKept(b *strings.Builder, r rune) {
	if b.Len() < maxTextKept {
		b.WriteRune(r)
	}
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func attr(t html.Token, name string) string {
	for _, a := range t.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func hasRel(t html.Token, rel string) bool {
	for _, v := range strings.Fields(attr(t, "rel")) {
		if strings.EqualFold(v, rel) {
			return true
		}
	}
	return false
}
