package edge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

var (
	// ErrCorrupt means bytes given to Decode are not an encoded Answer.
	ErrCorrupt = errors.New("edge: corrupt answer")
)

// codecMagic starts every encoded answer; its last byte is the format's
// version.
const codecMagic = "rce\x01"

// Bits of the flags byte.
const (
	flagLastModified = 1 << iota
	flagCompressible
)

// AppendBinary appends the answer's wire form to b: the fill's owner
// encodes the answer once, with its compressed bodies, so that every node
// that gets it from the cache (groupcache, the L2 store) only slices it
// apart with Decode and never compresses or hashes again.
func (a *Answer) AppendBinary(b []byte) ([]byte, error) {
	n := len(codecMagic) + 64 + len(a.cache) + len(a.hash)
	for _, f := range a.header {
		n += len(f.key) + 8
		for _, v := range f.vals {
			n += len(v) + 4
		}
	}
	for c := range numCodings {
		n += len(a.reps[c].body) + 4
	}
	b = slices.Grow(b, n)
	b = append(b, codecMagic...)
	b = binary.AppendUvarint(b, uint64(a.status))
	b = binary.AppendVarint(b, a.storedAt.UnixNano())
	b = binary.AppendVarint(b, int64(a.ttl))
	var flags byte
	if a.lastModVal != nil {
		flags |= flagLastModified
	}
	if a.compressible {
		flags |= flagCompressible
	}
	b = append(b, flags)
	if a.lastModVal != nil {
		b = binary.AppendVarint(b, a.lastMod.Unix())
	}
	b = appendString(b, a.cache)
	b = appendString(b, a.hash)
	vary := ""
	if a.vary != nil {
		vary = a.vary[0]
	}
	b = appendString(b, vary)
	b = binary.AppendUvarint(b, uint64(len(a.header)))
	for _, f := range a.header {
		b = appendString(b, f.key)
		b = binary.AppendUvarint(b, uint64(len(f.vals)))
		for _, v := range f.vals {
			b = appendString(b, v)
		}
	}
	b = append(b, a.have)
	for c := range numCodings {
		if a.have&(1<<c) != 0 {
			b = binary.AppendUvarint(b, uint64(len(a.reps[c].body)))
			b = append(b, a.reps[c].body...)
		}
	}
	return b, nil
}

// MarshalBinary returns the answer's wire form (see AppendBinary).
func (a *Answer) MarshalBinary() ([]byte, error) { return a.AppendBinary(nil) }

// Decode parses AppendBinary's output. The bodies alias b, which the
// caller must not change afterwards; header strings are copied.
func Decode(b []byte) (*Answer, error) {
	a, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return a, nil
}

func decode(b []byte) (*Answer, error) {
	d := decoder{b: b}
	if string(d.bytes(len(codecMagic))) != codecMagic {
		return nil, ErrCorrupt
	}
	a := &Answer{}
	status := d.uvarint()
	a.storedAt = time.Unix(0, d.varint())
	a.ttl = time.Duration(d.varint())
	flags := d.byte()
	if flags&^(flagLastModified|flagCompressible) != 0 {
		return nil, ErrCorrupt
	}
	if flags&flagLastModified != 0 {
		a.setLastModified(time.Unix(d.varint(), 0))
	}
	a.compressible = flags&flagCompressible != 0
	a.cache = d.string()
	a.hash = d.string()
	if vary := d.string(); vary != "" {
		a.vary = []string{vary}
	}
	nf := d.count()
	if d.err != nil || status < 100 || status > 999 || a.cache == "" || a.hash == "" {
		return nil, ErrCorrupt
	}
	a.status = int(status)
	a.header = make([]field, 0, nf)
	for range nf {
		key := d.string()
		nv := d.count()
		if d.err != nil || key == "" || nv == 0 {
			return nil, ErrCorrupt
		}
		vals := make([]string, nv)
		for i := range vals {
			vals[i] = d.string()
		}
		a.header = append(a.header, field{http.CanonicalHeaderKey(key), vals})
	}
	have := d.byte()
	if have&1 == 0 || have >= 1<<numCodings {
		return nil, ErrCorrupt
	}
	for c := range numCodings {
		if have&(1<<c) != 0 {
			n := d.count()
			body := d.bytes(n)
			if d.err != nil {
				return nil, ErrCorrupt
			}
			a.addRep(c, slices.Clip(body))
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, ErrCorrupt
	}
	a.finish()
	return a, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads AppendBinary's fields; the first failure sticks in err
// and every later read returns zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = ErrCorrupt, nil }

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b) {
		d.fail()
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) byte() byte {
	if b := d.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length or count, which can never exceed the bytes left:
// a corrupt count must not make Decode allocate gigabytes.
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) string() string { return string(d.bytes(d.count())) }
