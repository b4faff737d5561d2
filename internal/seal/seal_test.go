package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func box(t *testing.T, key []byte) *Box {
	t.Helper()
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	k1 := bytes.Repeat([]byte{1}, KeySize)
	k2 := bytes.Repeat([]byte{2}, KeySize)
	b1, b2 := box(t, k1), box(t, k2)
	s, err := b1.Seal("whsec_secret", "tenant/acme/webhook-secret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "whsec_secret") || !strings.HasPrefix(s, version) {
		t.Fatalf("sealed %q", s)
	}
	if again, _ := b1.Seal("whsec_secret", "tenant/acme/webhook-secret"); again == s {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
	if got, err := b1.Open(s, "tenant/acme/webhook-secret"); err != nil || got != "whsec_secret" {
		t.Fatalf("open: %q %v", got, err)
	}
	bad := map[string]func() (string, error){
		"other key":     func() (string, error) { return b2.Open(s, "tenant/acme/webhook-secret") },
		"other purpose": func() (string, error) { return b1.Open(s, "tenant/evil/webhook-secret") },
		"truncated":     func() (string, error) { return b1.Open(s[:len(s)-2], "tenant/acme/webhook-secret") },
		"no version":    func() (string, error) { return b1.Open(strings.TrimPrefix(s, version), "tenant/acme/webhook-secret") },
		"empty":         func() (string, error) { return b1.Open("v1:", "tenant/acme/webhook-secret") },
	}
	for name, f := range bad {
		if _, err := f(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: %v, want ErrOpen", name, err)
		}
	}
}

func TestKeys(t *testing.T) {
	if _, err := New(make([]byte, 16)); !errors.Is(err, ErrKeySize) {
		t.Fatalf("16-byte key: %v", err)
	}
	ck := bytes.Repeat([]byte{7}, 32)
	d1, err := DeriveKey(ck)
	if err != nil || len(d1) != KeySize || bytes.Equal(d1, ck) {
		t.Fatalf("derive: %x %v", d1, err)
	}
	if d2, _ := DeriveKey(ck); !bytes.Equal(d1, d2) {
		t.Fatal("derivation is not deterministic: nodes would disagree")
	}
	if _, err := DeriveKey(nil); err == nil {
		t.Fatal("derived from an empty cluster key")
	}
	enc := base64.StdEncoding.EncodeToString(d1)
	if k, err := ParseKey(" " + enc + "\n"); err != nil || !bytes.Equal(k, d1) {
		t.Fatalf("parse: %v", err)
	}
	for _, s := range []string{"", "short", base64.StdEncoding.EncodeToString(make([]byte, 31))} {
		if _, err := ParseKey(s); !errors.Is(err, ErrKeySize) {
			t.Errorf("ParseKey(%q): %v", s, err)
		}
	}
}
