package contract

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// recorder passes an answer through to the client and keeps a copy of
// its status, headers and (up to maxBody of) its body.
type recorder struct {
	http.ResponseWriter
	status    int
	header    http.Header
	body      bytes.Buffer
	truncated bool
	wrote     bool
}

// record serves r with next through a recorder and returns it.
func record(w http.ResponseWriter, r *http.Request, next http.Handler) *recorder {
	rec := &recorder{ResponseWriter: w}
	next.ServeHTTP(rec, r)
	if !rec.wrote {
		rec.WriteHeader(http.StatusOK)
	}
	return rec
}

func (rec *recorder) WriteHeader(code int) {
	if !rec.wrote {
		rec.wrote = true
		rec.status = code
		rec.header = rec.ResponseWriter.Header().Clone()
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if !rec.wrote {
		rec.WriteHeader(http.StatusOK)
	}
	room := maxBody - rec.body.Len()
	if len(p) > room {
		rec.truncated = true
	}
	rec.body.Write(p[:max(0, min(len(p), room))])
	return rec.ResponseWriter.Write(p)
}

// Flush passes flushes through, for answers that stream.
func (rec *recorder) Flush() {
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
