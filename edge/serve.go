package edge

import (
	"net/http"
	"strconv"
	"time"
)

// Outcome says how the cache came by an answer, for Cache-Status.
type Outcome uint8

// Outcomes.
const (
	// Hit: served from the cache, "<cache>; hit; ttl=<seconds>", where
	// ttl is the freshness left, negative once stale.
	Hit Outcome = iota
	// Miss: filled for this request, "<cache>; fwd=miss; stored".
	Miss
)

// Written tells the caller what Serve sent, for logs and usage counts.
type Written struct {
	Status int
	// Bytes is the number of body bytes written.
	Bytes int
	// Coding is the representation selected by Accept-Encoding.
	Coding Coding
}

// autoLength is the largest full 200 body whose Content-Length Serve
// leaves to net/http (its bufferBeforeChunkingSize).
const autoLength = 2048

// Field values shared by every answer. Serve places these slices in
// response headers as they are: nobody may change their elements.
var (
	allowGetHead = []string{"GET, HEAD"}
	acceptBytes  = []string{"bytes"}
	zeroLength   = []string{"0"}
)

// Serve writes a to w as the answer to r, at time now (for Age and the
// Cache-Status ttl), with the Cache-Status of outcome. Fields the caller
// set on w beforehand stay unless Serve writes the same field.
//
//   - Methods: GET and HEAD; HEAD sends the headers and Content-Length of
//     the GET without a body; any other method gets 405 with Allow.
//   - Accept-Encoding selects br, gzip or identity by q-value (see
//     negotiate); Vary: Accept-Encoding is on every compressible answer.
//     Each coding is its own representation with its own strong ETag.
//   - On a 2xx answer, conditional fields in RFC 9110 order: If-Match and
//     If-Unmodified-Since (412), then If-None-Match by weak comparison
//     (304), or If-Modified-Since when If-None-Match is absent (304).
//   - On a 200 answer to GET, a single byte range (of the selected
//     representation) gets 206 with Content-Range, an unsatisfiable one
//     416, unless If-Range does not match; several ranges get the whole
//     body with 200. Accept-Ranges: bytes is sent on incompressible 200s
//     (media, downloads), where clients look for it.
//
// A hit writes the pre-built header block, pre-formatted lengths and the
// body in one Write: Serve itself allocates nothing on a full 200 or a
// 304 (but for formatting Age once per second of an answer's age), and
// net/http neither sniffs nor chunks. A full 200 body of at most 2 KB
// goes without Content-Length, which net/http adds when the handler
// returns (a ResponseWriter that does not, such as httptest's recorder,
// sends none). The header value slices
// are shared by every hit: callers and middleware may replace them (Set,
// Add, Del) but must never change their elements in place.
func Serve(w http.ResponseWriter, r *http.Request, a *Answer, outcome Outcome, now time.Time) Written {
	h := w.Header()
	head := r.Method == http.MethodHead
	if !head && r.Method != http.MethodGet {
		h["Allow"] = allowGetHead
		h["Content-Length"] = zeroLength
		w.WriteHeader(http.StatusMethodNotAllowed)
		return Written{Status: http.StatusMethodNotAllowed}
	}
	c := negotiate(r.Header["Accept-Encoding"], a.have)
	rp := &a.reps[c]

	for _, f := range a.header {
		h[f.key] = f.vals
	}
	if a.vary != nil {
		h["Vary"] = a.vary
	}
	if a.lastModVal != nil {
		h["Last-Modified"] = a.lastModVal
	}
	h["Etag"] = rp.etag
	ck := a.clockAt(now)
	h["Age"] = ck.ageVal
	if outcome == Miss {
		h["Cache-Status"] = a.miss
	} else {
		h["Cache-Status"] = ck.hitVal
	}

	if a.status/100 == 2 {
		switch a.preconditions(r.Header, rp.etag[0]) {
		case notModified:
			// RFC 9110 §15.4.5: the validators, Vary and caching fields
			// stay; the representation's own metadata goes.
			delete(h, "Content-Type")
			w.WriteHeader(http.StatusNotModified)
			return Written{Status: http.StatusNotModified, Coding: c}
		case preconditionErr:
			delete(h, "Content-Type")
			h["Content-Length"] = zeroLength
			w.WriteHeader(http.StatusPreconditionFailed)
			return Written{Status: http.StatusPreconditionFailed, Coding: c}
		}
	}

	status, body, length := a.status, rp.body, rp.length
	if status == http.StatusOK {
		if !a.compressible {
			h["Accept-Ranges"] = acceptBytes
		}
		if rv := r.Header["Range"]; len(rv) == 1 && !head {
			start, end, kind := parseRange(rv[0], int64(len(body)))
			if ir := r.Header["If-Range"]; kind != rangeIgnore && len(ir) > 0 && !a.ifRange(ir[0], rp.etag[0]) {
				kind = rangeIgnore
			}
			switch kind {
			case rangeOne:
				size := strconv.Itoa(len(body))
				h["Content-Range"] = []string{"bytes " + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10) + "/" + size}
				status, body = http.StatusPartialContent, body[start:end+1]
				length = []string{strconv.Itoa(len(body))}
			case rangeUnsatisfiable:
				h["Content-Range"] = []string{"bytes */" + strconv.Itoa(len(body))}
				delete(h, "Content-Type")
				h["Content-Length"] = zeroLength
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return Written{Status: http.StatusRequestedRangeNotSatisfiable, Coding: c}
			}
		}
	}
	if rp.encoding != nil {
		h["Content-Encoding"] = rp.encoding
	}
	// net/http adds Content-Length itself to a body written in one Write
	// of at most its pre-chunking buffer (documented: "under a few KB"):
	// one field less in the map keeps a small page's header map small,
	// for it and for the copy net/http makes of it.
	if bodyAllowed(status) && (head || status != http.StatusOK || len(body) > autoLength) {
		h["Content-Length"] = length
	}
	w.WriteHeader(status)
	if head || len(body) == 0 {
		return Written{Status: status, Coding: c}
	}
	n, _ := w.Write(body)
	return Written{Status: status, Bytes: n, Coding: c}
}
