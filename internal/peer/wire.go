package peer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/rendercache/rendercache/internal/errkind"
)

// statusAnswered marks an answer whose body is the handler's own error, as
// opposed to a refusal by the listener (wrong key, unknown route) or a
// broken peer.
const statusAnswered = http.StatusFailedDependency

// envelope is the body of every error answer on the internal listener.
type envelope struct {
	Error *wireError `json:"error"`
}

// wireError is an error as it crosses between nodes.
type wireError struct {
	Kind       string         `json:"kind"`
	Message    string         `json:"message"`
	RetryAfter int            `json:"retryAfter,omitempty"`
	Fields     map[string]any `json:"fields,omitempty"`
}

// encodeError returns err in the wire format. An error without a kind is
// Internal with err's text, which API clients never see.
func encodeError(err error) []byte {
	w := &wireError{Kind: errkind.Internal.String(), Message: err.Error()}
	if e := errkind.Of(err); e != nil {
		w = &wireError{Kind: e.Kind.String(), Message: e.Message, RetryAfter: e.RetryAfter, Fields: e.Fields}
	}
	b, jerr := json.Marshal(envelope{w})
	if jerr != nil {
		// Fields that do not encode are dropped; the kind and message
		// still cross.
		w.Fields = nil
		b, _ = json.Marshal(envelope{w})
	}
	return append(b, '\n')
}

// decodeError reads a body written by encodeError.
func decodeError(body []byte) (*errkind.Error, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decode error: %w", err)
	}
	if env.Error == nil || env.Error.Message == "" {
		return nil, errors.New("decode error: no error in the body")
	}
	w := env.Error
	return &errkind.Error{Kind: errkind.ParseKind(w.Kind), Message: w.Message, Fields: w.Fields, RetryAfter: w.RetryAfter}, nil
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(encodeError(err))
}

// readBounded reads r to its end, failing with errTooLarge past limit
// bytes.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", errTooLarge, limit)
	}
	return b, nil
}
