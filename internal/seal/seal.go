package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the data key's length: AES-256.
const KeySize = 32

// version prefixes every sealed value, so a later key or algorithm can be
// told apart from this one.
const version = "v1:"

// hkdfInfo separates the data key from every other use of the cluster key.
const hkdfInfo = "rendercache data key v1"

var (
	// ErrKeySize refuses a data key that is not KeySize bytes.
	ErrKeySize = errors.New("seal: the encryption key must be 32 bytes (base64, as `rendercache keygen` prints)")
	// ErrOpen means a sealed value is malformed, was sealed under another
	// key, or was moved to another purpose than the one it was sealed for.
	ErrOpen = errors.New("seal: cannot open sealed value (wrong encryption key, or corrupted)")
)

// Box seals and opens values under one data key. Safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box over a KeySize-byte data key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Box{aead: aead}, nil
}

// DeriveKey returns the data key derived from the cluster key with
// HKDF-SHA256, for clusters run without --encryption-key. Anyone holding
// the cluster key can then decrypt the secrets; see the README.
func DeriveKey(clusterKey []byte) ([]byte, error) {
	if len(clusterKey) == 0 {
		return nil, errors.New("seal: derive key: empty cluster key")
	}
	k, err := hkdf.Key(sha256.New, clusterKey, nil, hkdfInfo, KeySize)
	if err != nil {
		return nil, fmt.Errorf("seal: derive key: %w", err)
	}
	return k, nil
}

// ParseKey decodes a base64 data key (standard or URL alphabet).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, ErrKeySize
			}
			return k, nil
		}
	}
	return nil, ErrKeySize
}

// Seal encrypts plaintext with a fresh random nonce. purpose is
// authenticated but not stored (for example "tenant/acme/webhook-secret"),
// so a sealed value copied to another record does not open there.
func (b *Box) Seal(plaintext, purpose string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(purpose))
	return version + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal returned for the same purpose.
func (b *Box) Open(sealed, purpose string) (string, error) {
	body, ok := strings.CutPrefix(sealed, version)
	if !ok {
		return "", ErrOpen
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	pt, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		return "", ErrOpen
	}
	return string(pt), nil
}
