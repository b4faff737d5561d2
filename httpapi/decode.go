package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/rendercache/rendercache/internal/errkind"
)

// DefaultMaxBodyBytes bounds JSON request bodies; management requests are
// small, so anything larger is refused before it is read.
const DefaultMaxBodyBytes = 1 << 20

// DecodeJSON reads exactly one JSON object of at most DefaultMaxBodyBytes
// from r's body into v. Unknown fields, wrong types, trailing data,
// oversized and empty bodies are all 4xx errors naming the problem.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSON(w, r, DefaultMaxBodyBytes, v)
}

// DecodeOptionalJSON is DecodeJSON for a body that may be omitted: an
// empty body leaves v as it is.
func DecodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeJSON(w, r, DefaultMaxBodyBytes, v)
}

// decodeJSON is DecodeJSON with a body bound of max bytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errkind.New(errkind.Invalid, "Content-Type must be application/json")
		}
	}
	body := http.MaxBytesReader(w, r.Body, max)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err, max)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyError(err, max)
		}
		return errkind.New(errkind.Invalid, "request body must contain a single JSON object")
	}
	return nil
}

func bodyError(err error, max int64) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return errkind.New(errkind.TooLarge, fmt.Sprintf("request body must be at most %d bytes", max))
	case errors.Is(err, io.EOF):
		return errkind.New(errkind.Invalid, "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errkind.New(errkind.Invalid, "request body is truncated JSON")
	case errors.As(err, &se):
		return errkind.New(errkind.Invalid, fmt.Sprintf("invalid JSON at byte %d", se.Offset))
	case errors.As(err, &ute):
		if ute.Field == "" {
			return errkind.New(errkind.Invalid, fmt.Sprintf("request body must be a JSON object, not %s", ute.Value))
		}
		return errkind.New(errkind.Invalid, fmt.Sprintf("field %q must be %s, not %s", ute.Field, ute.Type.Kind(), ute.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errkind.New(errkind.Invalid, "unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return errkind.New(errkind.Invalid, "invalid JSON body")
}
