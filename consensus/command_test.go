package consensus

import (
	"bytes"
	"errors"
	"testing"
)

func TestCommandRoundTrip(t *testing.T) {
	cmd, err := NewCommand("account.create", 1, map[string]string{"id": "a1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cmd.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != cmd.Type || got.Version != 1 || !bytes.Equal(got.Body, cmd.Body) {
		t.Fatalf("round trip: %+v != %+v", got, cmd)
	}
}

func TestDecodeCommandRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ``},
		{"not json", `xx`},
		{"no type", `{"v":1,"b":{}}`},
		{"no version", `{"t":"x","b":{}}`},
		{"zero version", `{"t":"x","v":0,"b":{}}`},
		{"no body", `{"t":"x","v":1}`},
		{"unknown field", `{"t":"x","v":1,"b":{},"z":1}`},
		{"trailing", `{"t":"x","v":1,"b":{}} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeCommand([]byte(tt.in)); !errors.Is(err, ErrBadCommand) {
				t.Fatalf("DecodeCommand(%q) = %v, want ErrBadCommand", tt.in, err)
			}
		})
	}
}

func FuzzDecodeCommand(f *testing.F) {
	f.Add([]byte(`{"t":"account.create","v":1,"b":{"id":"x"}}`))
	f.Add([]byte(`{"t":"","v":1,"b":null}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cmd, err := DecodeCommand(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same command.
		enc, err := cmd.Encode()
		if err != nil {
			t.Fatalf("decoded command does not encode: %v", err)
		}
		again, err := DecodeCommand(enc)
		if err != nil || again.Type != cmd.Type || again.Version != cmd.Version {
			t.Fatalf("re-decode: %+v, %v", again, err)
		}
	})
}
