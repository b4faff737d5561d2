package edge

import (
	"bytes"
	"net/http"
	"testing"
)

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=10-", "bytes=0-1,5-6", "bytes=-0", " BYTES = 1-2 ,", "bytes=99999999999999999999-", "bytes=5-2", "items=0-1", "bytes=-", ""} {
		f.Add(s, int64(28<<10))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		start, end, kind := parseRange(v, size)
		switch kind {
		case rangeOne:
			if size <= 0 || start < 0 || start > end || end >= size {
				t.Fatalf("%q of %d: range %d-%d", v, size, start, end)
			}
		case rangeUnsatisfiable:
			if size <= 0 {
				t.Fatalf("%q: unsatisfiable for an empty body", v)
			}
		}
	})
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"gzip, deflate, br", "br;q=0.5, gzip", "*;q=0", "identity;q=0, *;q=0", "gzip;q=1.000", "br;q=0.", ";;,,q=", "x-gzip ; Q = 0.3"} {
		f.Add(s, uint8(7))
	}
	f.Fuzz(func(t *testing.T, v string, have uint8) {
		have = have&(1<<numCodings-1) | 1
		c := negotiate([]string{v}, have)
		if c >= numCodings || have&(1<<c) == 0 {
			t.Fatalf("%q with %03b: chose %v, which is not available", v, have, c)
		}
	})
}

func FuzzMatchList(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"a", "b"`, "*", `"a`, `W/`, `,,, "a"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		strong := matchList(v, `"a"`, false)
		if weak := matchList(v, `"a"`, true); strong && !weak {
			t.Fatalf("%q matches strongly but not weakly", v)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, a := range []*Answer{
		New(Meta{Header: http.Header{"Content-Type": {"text/html"}, "Vary": {"User-Agent"}}, Body: htmlPage(2000), LastModified: testNow}, Options{}),
		New(Meta{Status: 301, Header: http.Header{"Location": {"/x"}}}, Options{}),
	} {
		b, _ := a.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Decode(b)
		if err != nil {
			return
		}
		again, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded answer does not decode: %v", err)
		}
		if !bytes.Equal(b2.Body(), a.Body()) || b2.Status() != a.Status() {
			t.Fatal("re-encoded answer differs")
		}
		Serve(&discardWriter{h: http.Header{}}, &http.Request{Method: http.MethodGet, Header: http.Header{"Range": {"bytes=1-2"}}}, a, Hit, testNow)
	})
}
