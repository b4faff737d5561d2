package page

import (
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/edge"
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

// A page's value carries its answer's binary form: decoding it gives the
// answer the fill built (status, headers, bodies, render time), and the
// L2 fill's restamp changes the envelope without touching the answer.
func TestPageValueRoundTrip(t *testing.T) {
	rendered := time.Unix(1_700_000_000, 0).UTC()
	body := []byte("<html>" + strings.Repeat("<p>gone</p>", 200) + "</html>")
	p := Page{Status: 404, Header: map[string][]string{"Content-Type": {"text/html"}, "Content-Encoding": {"gzip"}}, Body: body, Rendered: true,
		RenderedAt: rendered, RenderedBy: "n2", TTL: time.Hour}
	v := p.Encode()
	m, ans, err := parseValue(v)
	if err != nil || m.source != FromRender || !m.renderedAt.Equal(rendered) {
		t.Fatalf("parseValue = %+v, %v", m, err)
	}
	a, err := edge.Decode(ans)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status() != 404 || string(a.Body()) != string(body) || !a.StoredAt().Equal(rendered) || a.TTL() != time.Hour ||
		a.Header("X-Rendercache-Node") != "n2" || a.Header("Content-Type") != "text/html" || a.Header("Content-Encoding") != "" {
		t.Fatalf("answer: status %d, stored %v, ttl %v, node %q, type %q, encoding %q", a.Status(), a.StoredAt(), a.TTL(),
			a.Header("X-Rendercache-Node"), a.Header("Content-Type"), a.Header("Content-Encoding"))
	}
	if _, ok := a.Encoded(edge.Gzip); !ok {
		t.Fatal("the fill did not compress the page")
	}
	filled := rendered.Add(time.Minute)
	m2, ans2, err := parseValue(restamp(valueMeta{source: FromL2, filledAt: filled, renderedAt: rendered}, ans))
	if err != nil || m2.source != FromL2 || !m2.filledAt.Equal(filled) || string(ans2) != string(ans) {
		t.Fatalf("restamp: %+v, %v", m2, err)
	}
	for _, bad := range [][]byte{nil, {0, 0}, []byte("rcp\x01xxxxx"), []byte(valueMagic + "\x09\x00\x00")} {
		if _, _, err := parseValue(bad); err == nil {
			t.Fatalf("parseValue(%q) accepted", bad)
		}
	}
}

func FuzzParseValue(f *testing.F) {
	f.Add(Page{Status: 200, Body: []byte("x")}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, ans, err := parseValue(b); err == nil {
			edge.Decode(ans)
		}
	})
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

// A hit's key, built in a buffer, is the same as the key a fill parses.
func TestAppendGroupKey(t *testing.T) {
	k := Key{Domain: "www.shop.test", Version: "m1.2.3", Variant: render.Mobile, URL: "/a/b?c=d#!e"}
	got := string(AppendGroupKey(make([]byte, 0, 8), k.Domain, k.Version, k.Variant, k.URL, 42))
	if want := k.String() + "\x0042"; got != want {
		t.Fatalf("AppendGroupKey = %q, want %q", got, want)
	}
	gk, _, _ := strings.Cut(got, "\x00")
	if back, err := ParseKey(gk); err != nil || back != k {
		t.Fatalf("ParseKey(%q) = %+v, %v", gk, back, err)
	}
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { AppendGroupKey(buf[:0], k.Domain, k.Version, k.Variant, k.URL, 42) }); n != 0 {
		t.Fatalf("AppendGroupKey allocates %v times in a large enough buffer", n)
	}
}
