package edge

import (
	"net/http"
	"strings"
)

// precondition is the outcome of a request's conditional fields.
type precondition uint8

const (
	proceed         precondition = iota // send the answer
	notModified                         // 304
	preconditionErr                     // 412
)

// preconditions evaluates the conditional fields of a GET or HEAD in RFC
// 9110 §13.2.2's order against the representation whose strong ETag is
// etag: If-Match, else If-Unmodified-Since; then If-None-Match, else
// If-Modified-Since. Only 2xx answers are conditional.
func (a *Answer) preconditions(h http.Header, etag string) precondition {
	if im, ok := h["If-Match"]; ok {
		if !matchAny(im, etag, false) {
			return preconditionErr
		}
	} else if ius := h["If-Unmodified-Since"]; len(ius) > 0 && a.lastModVal != nil {
		if t, err := http.ParseTime(ius[0]); err == nil && a.lastMod.After(t) {
			return preconditionErr
		}
	}
	if inm, ok := h["If-None-Match"]; ok {
		if matchAny(inm, etag, true) {
			return notModified
		}
		return proceed
	}
	if ims := h["If-Modified-Since"]; len(ims) > 0 && a.lastModVal != nil {
		// Clients echo Last-Modified back as sent: compare the text
		// before parsing it.
		if ims[0] == a.lastModText {
			return notModified
		}
		if t, err := http.ParseTime(ims[0]); err == nil && !a.lastMod.After(t) {
			return notModified
		}
	}
	return proceed
}

// ifRange reports whether a Range may be honoured under the If-Range
// field value v (RFC 9110 §13.1.5): an entity-tag must match etag by
// strong comparison, a date must equal Last-Modified exactly.
func (a *Answer) ifRange(v, etag string) bool {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "W/") {
		return !strings.HasPrefix(v, "W/") && v == etag
	}
	if a.lastModVal == nil {
		return false
	}
	if v == a.lastModText {
		return true
	}
	t, err := http.ParseTime(v)
	return err == nil && t.Equal(a.lastMod)
}

// matchAny reports whether any entity-tag in the list field values vals
// matches etag, a strong tag with its quotes: "*" matches anything; weak
// comparison ignores a W/ prefix, strong comparison never matches a weak
// tag. A malformed element ends the list. It never allocates.
func matchAny(vals []string, etag string, weak bool) bool {
	for _, v := range vals {
		if matchList(v, etag, weak) {
			return true
		}
	}
	return false
}

func matchList(list, etag string, weak bool) bool {
	for {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			return false
		}
		if list[0] == '*' {
			return true
		}
		isWeak := strings.HasPrefix(list, "W/")
		if isWeak {
			list = list[2:]
		}
		if len(list) < 2 || list[0] != '"' {
			return false
		}
		end := strings.IndexByte(list[1:], '"')
		if end < 0 {
			return false
		}
		tag := list[:end+2]
		if tag == etag && (weak || !isWeak) {
			return true
		}
		list = list[end+2:]
	}
}
