package sitemap

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const urlset = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://a.example/</loc></url>
  <url><loc> https://a.example/about </loc><lastmod>2026-01-01</lastmod></url>
  <url><loc>https://elsewhere.example/x</loc></url>
</urlset>`

func TestParse(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(urlset))
	zw.Close()
	cases := []struct {
		name          string
		data          []byte
		pages, childs []string
		bad           bool
	}{
		{"urlset", []byte(urlset), []string{"https://a.example/", "https://a.example/about", "https://elsewhere.example/x"}, nil, false},
		{"gzip", gz.Bytes(), []string{"https://a.example/", "https://a.example/about", "https://elsewhere.example/x"}, nil, false},
		{"index", []byte(`<sitemapindex><sitemap><loc>https://a.example/s1.xml</loc></sitemap></sitemapindex>`), nil, []string{"https://a.example/s1.xml"}, false},
		{"html", []byte(`<html><body>no</body></html>`), nil, nil, true},
		{"garbage", []byte(`{"not":"xml"}`), nil, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pages, childs, err := Parse(c.data)
			if (err != nil) != c.bad || !slices.Equal(pages, c.pages) || !slices.Equal(childs, c.childs) {
				t.Fatalf("Parse = %v %v %v", pages, childs, err)
			}
		})
	}
}

func TestCollectFollowsIndexesWithinBounds(t *testing.T) {
	files := map[string]string{
		"https://a.example/sitemap.xml": `<sitemapindex><sitemap><loc>https://a.example/s1.xml</loc></sitemap><sitemap><loc>https://a.example/s2.xml</loc></sitemap><sitemap><loc>https://evil.example/s.xml</loc></sitemap></sitemapindex>`,
		"https://a.example/s1.xml":      urlset,
		"https://a.example/s2.xml":      `broken`,
	}
	var fetched []string
	fetch := func(_ context.Context, u string) ([]byte, error) {
		fetched = append(fetched, u)
		f, ok := files[u]
		if !ok {
			return nil, errors.New("404")
		}
		return []byte(f), nil
	}
	keep := func(u string) bool { return strings.HasPrefix(u, "https://a.example/") }
	got, err := Collect(context.Background(), fetch, "https://a.example/sitemap.xml", keep)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"https://a.example/", "https://a.example/about"}) {
		t.Fatalf("Collect = %v", got)
	}
	if slices.Contains(fetched, "https://evil.example/s.xml") {
		t.Fatal("followed a sitemap on another host")
	}
	if _, err := Collect(context.Background(), fetch, "https://a.example/missing.xml", keep); !errors.Is(err, ErrBad) {
		t.Fatalf("missing root sitemap: %v", err)
	}

	// An index pointing at itself and at thousands of files stops at the
	// bounds.
	loop := func(_ context.Context, u string) ([]byte, error) {
		var b strings.Builder
		b.WriteString("<sitemapindex>")
		for i := range 100 {
			fmt.Fprintf(&b, "<sitemap><loc>https://a.example/s%d-%d.xml</loc></sitemap>", len(u), i)
		}
		b.WriteString("</sitemapindex>")
		return []byte(b.String()), nil
	}
	calls := 0
	counting := func(ctx context.Context, u string) ([]byte, error) { calls++; return loop(ctx, u) }
	if _, err := Collect(context.Background(), counting, "https://a.example/sitemap.xml", keep); err != nil {
		t.Fatal(err)
	}
	if calls > MaxSitemaps {
		t.Fatalf("fetched %d sitemaps, bound is %d", calls, MaxSitemaps)
	}
}

func TestCollectStopsAtMaxURLs(t *testing.T) {
	var b strings.Builder
	b.WriteString("<urlset>")
	for i := range MaxURLs + 5 {
		fmt.Fprintf(&b, "<url><loc>https://a.example/p%d</loc></url>", i)
	}
	b.WriteString("</urlset>")
	fetch := func(context.Context, string) ([]byte, error) { return []byte(b.String()), nil }
	got, err := Collect(context.Background(), fetch, "https://a.example/sitemap.xml", func(string) bool { return true })
	if err != nil || len(got) != MaxURLs {
		t.Fatalf("Collect returned %d URLs (%v), want the bound %d", len(got), err, MaxURLs)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(urlset))
	f.Add([]byte(`<sitemapindex><sitemap><loc>x</loc></sitemap></sitemapindex>`))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) { Parse(b) })
}
