package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"math/big"
	"strings"
)

// BodyLen is the number of random characters after a secret's prefix.
const BodyLen = 32

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// New returns prefix followed by BodyLen characters drawn uniformly from
// [A-Za-z0-9] with crypto/rand (about 190 bits of entropy).
func New(prefix string) string {
	var b strings.Builder
	b.Grow(len(prefix) + BodyLen)
	b.WriteString(prefix)
	max := big.NewInt(int64(len(alnum)))
	for range BodyLen {
		x, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("secret: crypto/rand failed: " + err.Error())
		}
		b.WriteByte(alnum[x.Int64()])
	}
	return b.String()
}

// Hash returns the hex SHA-256 digest under which a secret is stored.
func Hash(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

// Equal compares two hex digests in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// HasShape reports whether s is prefix followed by exactly BodyLen
// alphanumeric characters. It rejects malformed secrets before any lookup.
func HasShape(s, prefix string) bool {
	body, ok := strings.CutPrefix(s, prefix)
	if !ok || len(body) != BodyLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		if strings.IndexByte(alnum, body[i]) < 0 {
			return false
		}
	}
	return true
}

// Hint returns the last four characters of a secret, which listings show so
// people can tell keys apart without the secret being exposed.
func Hint(raw string) string {
	if len(raw) < 4 {
		return ""
	}
	return raw[len(raw)-4:]
}
