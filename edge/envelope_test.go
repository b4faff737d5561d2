package edge

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"time"
)

// A value keeps its surface's metadata and its answer apart, carries no
// answer for what passes uncached, and a truncated value is refused.
func TestEnvelopeRoundTrip(t *testing.T) {
	type meta struct {
		Pass bool     `json:"pass"`
		Tags []string `json:"tags"`
	}
	a := New(Meta{Status: 200, Header: http.Header{"Content-Type": {"text/css"}}, Body: []byte("body{}"), StoredAt: time.Unix(1, 0)}, DefaultOptions())
	for _, tc := range []struct {
		name string
		in   meta
		a    *Answer
	}{
		{"with an answer", meta{Tags: []string{"t1"}}, a},
		{"passed uncached", meta{Pass: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := AppendEnvelope(tc.in, tc.a)
			if err != nil {
				t.Fatal(err)
			}
			var got meta
			ga, err := DecodeEnvelope(v, &got)
			if err != nil {
				t.Fatal(err)
			}
			if got.Pass != tc.in.Pass || len(got.Tags) != len(tc.in.Tags) {
				t.Fatalf("meta %+v, want %+v", got, tc.in)
			}
			if (ga == nil) != (tc.a == nil) || ga != nil && !bytes.Equal(ga.Body(), tc.a.Body()) {
				t.Fatalf("answer %v, want %v", ga, tc.a)
			}
			if _, err := DecodeEnvelope(v[:3], &got); !errors.Is(err, ErrShortEnvelope) {
				t.Fatalf("3 bytes: %v", err)
			}
			if _, err := DecodeEnvelope(v[:5], &got); !errors.Is(err, ErrShortEnvelope) {
				t.Fatalf("cut envelope: %v", err)
			}
		})
	}
}
