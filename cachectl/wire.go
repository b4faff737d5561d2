package cachectl

import (
	"bytes"
	"encoding/json"
	"io"
)

// maxInternalBody bounds an internal answer (a listing page).
const maxInternalBody = 64 << 20

type jsonBody struct{ b []byte }

func newJSONBody(v any) *jsonBody {
	b, _ := json.Marshal(v)
	return &jsonBody{b: b}
}

func (j *jsonBody) reader() io.Reader {
	if j == nil {
		return nil
	}
	return bytes.NewReader(j.b)
}

func limited(r io.Reader) io.Reader { return io.LimitReader(r, maxInternalBody) }
