package edge

import "strings"

// rangeKind is what a Range field asks of a body.
type rangeKind uint8

const (
	rangeIgnore        rangeKind = iota // no usable range: send the whole body
	rangeOne                            // one satisfiable range: 206
	rangeUnsatisfiable                  // one range past the end: 416
)

// maxRangeDigits keeps a position within int64.
const maxRangeDigits = 18

// parseRange reads a Range field value against a body of size bytes and
// returns the inclusive byte positions of the one range it asks for.
// Only "bytes" ranges are understood. A field with more than one range is
// ignored and the whole body is sent: RFC 9110 §14.2 lets a server ignore
// Range, and multipart/byteranges costs more than it saves for bodies of
// a cache's sizes (and is a known amplification vector). A malformed
// field is ignored as well, as the RFC asks; an empty body ignores Range.
// It never allocates.
func parseRange(v string, size int64) (start, end int64, kind rangeKind) {
	if size <= 0 {
		return 0, 0, rangeIgnore
	}
	v = strings.TrimSpace(v)
	if len(v) < 6 || !strings.EqualFold(v[:5], "bytes") {
		return 0, 0, rangeIgnore
	}
	v = strings.TrimLeft(v[5:], " \t")
	if len(v) == 0 || v[0] != '=' {
		return 0, 0, rangeIgnore
	}
	v = v[1:]
	var spec string
	n := 0
	for len(v) > 0 {
		var elem string
		elem, v, _ = strings.Cut(v, ",")
		if elem = strings.TrimSpace(elem); elem == "" {
			continue
		}
		if n++; n > 1 {
			return 0, 0, rangeIgnore
		}
		spec = elem
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, rangeIgnore
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		// suffix-range: the last n bytes.
		n, ok := parseDigits(last)
		if !ok {
			return 0, 0, rangeIgnore
		}
		if n == 0 {
			return 0, 0, rangeUnsatisfiable
		}
		return size - min(n, size), size - 1, rangeOne
	}
	start, ok = parseDigits(first)
	if !ok {
		return 0, 0, rangeIgnore
	}
	end = size - 1
	if last != "" {
		if end, ok = parseDigits(last); !ok || end < start {
			return 0, 0, rangeIgnore
		}
		end = min(end, size-1)
	}
	if start >= size {
		return 0, 0, rangeUnsatisfiable
	}
	return start, end, rangeOne
}

// parseDigits parses a non-empty string of at most maxRangeDigits ASCII
// digits.
func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > maxRangeDigits {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
