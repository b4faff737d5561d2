package tenantproxy

import (
	"strings"
	"testing"
)

func TestIsHTML(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		want       bool
	}{
		{"root", "/", true},
		{"directory", "/blog/", true},
		{"no extension", "/about", true},
		{"html", "/index.HTML", true},
		{"htm", "/a/b.htm", true},
		{"css", "/app.css", false},
		{"dotted directory, file", "/v1.2/app.js", false},
		{"dotted directory, page", "/v1.2/about", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isHTML(tc.path); got != tc.want {
				t.Fatalf("isHTML(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		want      groupKey
		ok        bool
	}{
		{"api", "api/acme.mhx1/3/600.42/entries?a=1", groupKey{kindAPI, "acme", "mhx1", "3", "/entries?a=1"}, true},
		{"root page", "html/acme.mhx1/0/300.1/", groupKey{kindHTML, "acme", "mhx1", "0", "/"}, true},
		{"asset", "asset/acme.mhx1/2/3600.7/app.css", groupKey{kindAsset, "acme", "mhx1", "2", "/app.css"}, true},
		{"other kind", "asset2/acme.mhx1/2/1.1/x", groupKey{}, false},
		{"no slug", "api/.mhx1/1/1.1/x", groupKey{}, false},
		{"no tenant generation", "api/acme/1/1.1/x", groupKey{}, false},
		{"short", "api/acme/1", groupKey{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseKey(tc.key)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("parseKey(%q) = %+v, %v", tc.key, got, err)
			}
		})
	}
}

// FuzzParseKey: any key either fails or yields a path that starts with
// '/' under a known kind and a slug.
func FuzzParseKey(f *testing.F) {
	f.Add("api/acme.mhx1/3/600.42/entries?a=1")
	f.Add("html/a.1/0/1.1/")
	f.Add("asset//x")
	f.Fuzz(func(t *testing.T, key string) {
		k, err := parseKey(key)
		if err != nil {
			return
		}
		if !strings.HasPrefix(k.pq, "/") || k.slug == "" || k.tenantGen == "" || (k.kind != kindAPI && k.kind != kindHTML && k.kind != kindAsset) {
			t.Fatalf("parseKey(%q) = %+v", key, k)
		}
	})
}
