package page

import (
	"testing"
)

// The hit path's shortcut agrees with NormalizeURL: a path it accepts as
// it is is NormalizeURL's own output, and it allocates nothing.
func TestPageURLFastPath(t *testing.T) {
	tests := []struct {
		path, query string
		fast        bool
	}{
		{"/", "", true},
		{"/products/42", "", true},
		{"/a.b/c-d_e~f/", "", true},
		{"/a//b", "", true},
		{"/...", "", true},
		{"/.well-known/x", "", true},
		{"/a/./b", "", false},
		{"/a/../b", "", false},
		{"/a/..", "", false},
		{"/.", "", false},
		{"/a%20b", "", false},
		{"/a b", "", false},
		{"/a", "x=1", false},
		{"", "", false},
		{"a", "", false},
	}
	for _, tc := range tests {
		if got := canonicalPath(tc.path) && tc.query == ""; got != tc.fast {
			t.Errorf("fast path for %q?%q = %v, want %v", tc.path, tc.query, got, tc.fast)
		}
		want, werr := NormalizeURL(tc.path, tc.query)
		got, gerr := pageURL(tc.path, tc.query)
		if got != want || (werr == nil) != (gerr == nil) {
			t.Errorf("pageURL(%q, %q) = %q, %v; NormalizeURL = %q, %v", tc.path, tc.query, got, gerr, want, werr)
		}
	}
	if n := testing.AllocsPerRun(100, func() { pageURL("/products/42", "") }); n != 0 {
		t.Fatalf("pageURL of a canonical path allocates %v times", n)
	}
}

func FuzzCanonicalPath(f *testing.F) {
	for _, p := range []string{"/", "/a/b", "/a/../b", "/./", "/a.", "/..a", "/a/.b/..c/..."} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !canonicalPath(p) {
			return
		}
		if c, err := CleanPath(p); err != nil || c != p {
			t.Fatalf("canonicalPath(%q) but CleanPath = %q, %v", p, c, err)
		}
	})
}
