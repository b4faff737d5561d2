package page

import (
	"testing"
	"time"

	"github.com/rendercache/rendercache/render"
)

func TestKeyRoundTrip(t *testing.T) {
	k := Key{Domain: "www.example.com", Version: "7", Variant: render.Mobile, URL: "/a/b?x=1"}
	if s := k.String(); s != "render/www.example.com/7/mobile/a/b?x=1" {
		t.Fatalf("String = %q", s)
	}
	got, err := ParseKey(k.String())
	if err != nil || got != k {
		t.Fatalf("ParseKey = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "render/", "asset/a/1/desktop/x", "render/a/1/tablet/x", "render//1/desktop/x"} {
		if _, err := ParseKey(bad); err == nil {
			t.Fatalf("ParseKey(%q) accepted", bad)
		}
	}
}

func TestPageEncodeDecode(t *testing.T) {
	p := Page{Status: 404, Header: map[string][]string{"Content-Type": {"text/html"}}, Body: []byte("<html>gone</html>"), Rendered: true,
		RenderedAt: time.Unix(1_700_000_000, 0).UTC(), RenderedBy: "n2", FilledAt: time.Unix(1_700_000_001, 0).UTC(), Source: FromL2}
	got, err := Decode(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != p.Status || string(got.Body) != string(p.Body) || !got.RenderedAt.Equal(p.RenderedAt) || got.RenderedBy != "n2" || got.Source != FromL2 || got.Header.Get("Content-Type") != "text/html" {
		t.Fatalf("round trip = %+v", got)
	}
	for _, bad := range [][]byte{nil, {0, 0}, {0, 0, 0, 9, '{'}, {0, 0, 0, 1, 'x'}} {
		if _, err := Decode(bad); err == nil {
			t.Fatalf("Decode(%v) accepted", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Page{Status: 200, Body: []byte("x")}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) { Decode(b) })
}

func TestStoreKeyRoundTrip(t *testing.T) {
	for _, k := range []Key{
		{Domain: "a.example", Version: "lx2.3.1", Variant: render.Desktop, URL: "/"},
		{Domain: "a.example", Version: "lx2.0", Variant: render.Mobile, URL: "/p?q=a%20b#!x%20y"},
	} {
		got, err := ParseStoreKey(k.StoreKey())
		if err != nil || got != k {
			t.Fatalf("ParseStoreKey(%q) = %+v, %v", k.StoreKey(), got, err)
		}
	}
	// Pages sort by URL, whatever their version or variant.
	a := Key{Domain: "a.example", Version: "9", Variant: render.Mobile, URL: "/a"}.StoreKey()
	b := Key{Domain: "a.example", Version: "1", Variant: render.Desktop, URL: "/a/b"}.StoreKey()
	if a >= b {
		t.Fatalf("%q sorts after %q", a, b)
	}
	for _, bad := range []string{"render/a.example", "render/a.example/x 1", "render/a.example/x 1 tablet", "nope"} {
		if _, err := ParseStoreKey(bad); err == nil {
			t.Fatalf("ParseStoreKey(%q) accepted", bad)
		}
	}
}
