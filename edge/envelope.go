package edge

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrShortEnvelope refuses a cache value too short for the envelope it
// announces.
var ErrShortEnvelope = errors.New("edge: value shorter than its envelope")

// AppendEnvelope lays out a cache value that carries, besides the answer,
// what its surface's fill recorded (freshness, tags, whether it passes
// uncached): meta's JSON length (4 bytes), meta's JSON, then a's binary
// form, none when a is nil. Surfaces keep meta small: every node decodes
// it once per fill it takes from the cache.
func AppendEnvelope(meta any, a *Answer) ([]byte, error) {
	j, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(j)), uint32(len(j)))
	b = append(b, j...)
	if a == nil {
		return b, nil
	}
	return a.AppendBinary(b)
}

// DecodeEnvelope reads a value made by AppendEnvelope into meta (a
// pointer) and returns its answer, nil when none follows. The answer's
// bodies point into v.
func DecodeEnvelope(v []byte, meta any) (*Answer, error) {
	if len(v) < 4 {
		return nil, ErrShortEnvelope
	}
	n := int(binary.BigEndian.Uint32(v))
	if n > len(v)-4 {
		return nil, ErrShortEnvelope
	}
	if err := json.Unmarshal(v[4:4+n], meta); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	if len(v) == 4+n {
		return nil, nil
	}
	return Decode(v[4+n:])
}
