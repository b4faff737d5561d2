package edge

import "strings"

// negotiate picks the coding to send for the Accept-Encoding field values
// vals among the codings in have (bit c set: coding c is available;
// identity always is). The highest q-value wins; ties go to the smaller
// body, br before gzip before identity. No field means identity, as nginx
// does. When nothing available is acceptable (identity;q=0 with no
// compressed body) identity is sent all the same: RFC 9110 §12.5.3 lets a
// server do that rather than fail. It never allocates.
func negotiate(vals []string, have uint8) Coding {
	if len(vals) == 0 || have <= 1 {
		return Identity
	}
	// q-values in thousandths; -1: not listed.
	qBr, qGzip, qIdentity, qStar := -1, -1, -1, -1
	for _, v := range vals {
		for len(v) > 0 {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			name, params, _ := strings.Cut(elem, ";")
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			q, ok := qParam(params)
			if !ok {
				continue
			}
			switch {
			case strings.EqualFold(name, "br"):
				qBr = max(qBr, q)
			case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
				qGzip = max(qGzip, q)
			case strings.EqualFold(name, "identity"):
				qIdentity = max(qIdentity, q)
			case name == "*":
				qStar = max(qStar, q)
			}
		}
	}
	// "*" stands for every coding not listed by name. Identity is
	// acceptable unless refused by name or by "*", but when unlisted it is
	// the last choice: "gzip;q=0.8" asks for gzip.
	if qBr < 0 {
		qBr = max(qStar, 0)
	}
	if qGzip < 0 {
		qGzip = max(qStar, 0)
	}
	if qIdentity < 0 {
		qIdentity = 1
		if qStar >= 0 {
			qIdentity = qStar
		}
	}
	best, bestQ := Identity, qIdentity
	if have&(1<<Gzip) != 0 && qGzip > 0 && qGzip >= bestQ {
		best, bestQ = Gzip, qGzip
	}
	if have&(1<<Brotli) != 0 && qBr > 0 && qBr >= bestQ {
		best = Brotli
	}
	return best
}

// qParam returns the q parameter among an element's parameters
// (";q=0.8") in thousandths, 1000 when there is none; ok is false for a
// malformed q-value, and the element is then ignored.
func qParam(params string) (q int, ok bool) {
	q = 1000
	for len(params) > 0 {
		var p string
		p, params, _ = strings.Cut(params, ";")
		p = strings.TrimSpace(p)
		if len(p) < 2 || (p[0] != 'q' && p[0] != 'Q') {
			continue
		}
		rest := strings.TrimLeft(p[1:], " \t")
		if len(rest) == 0 || rest[0] != '=' {
			continue
		}
		return parseQ(strings.TrimSpace(rest[1:]))
	}
	return q, true
}

// parseQ parses a qvalue (RFC 9110 §12.4.2): "0", "0.x", "0.xx", "0.xxx",
// "1" or "1." followed by up to three zeros.
func parseQ(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	whole := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return whole, true
	}
	if s[1] != '.' {
		return 0, false
	}
	frac, scale := 0, 100
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		frac += int(c-'0') * scale
		scale /= 10
	}
	if whole == 1000 && frac != 0 {
		return 0, false
	}
	return whole + frac, true
}
