package render

import (
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
)

func TestBlocker(t *testing.T) {
	cases := []struct {
		name           string
		url            string
		rt             network.ResourceType
		extra          []string
		allowResources bool
		blocked        bool
	}{
		{"page script", "https://shop.example/app.js", network.ResourceTypeScript, nil, false, false},
		{"analytics", "https://www.google-analytics.com/analytics.js", network.ResourceTypeScript, nil, false, true},
		{"tag manager", "https://www.googletagmanager.com/gtm.js?id=GTM-1", network.ResourceTypeScript, nil, false, true},
		{"facebook pixel", "https://connect.facebook.net/en_US/fbevents.js", network.ResourceTypeScript, nil, false, true},
		{"segment", "https://cdn.segment.com/analytics.js/v1/x/analytics.min.js", network.ResourceTypeScript, nil, false, true},
		{"hotjar", "https://static.hotjar.com/c/hotjar-1.js", network.ResourceTypeScript, nil, false, true},
		{"tracker named in the query only", "https://shop.example/search?q=hotjar.com", network.ResourceTypeXHR, nil, false, false},
		{"image", "https://shop.example/a.png", network.ResourceTypeImage, nil, false, true},
		{"image allowed", "https://shop.example/a.png", network.ResourceTypeImage, nil, true, false},
		{"font", "https://shop.example/f.woff2", network.ResourceTypeFont, nil, false, true},
		{"media", "https://shop.example/v.mp4", network.ResourceTypeMedia, nil, false, true},
		{"beacon even when resources are allowed", "https://shop.example/b", network.ResourceTypePing, nil, true, true},
		{"domain pattern", "https://shop.example/chat/widget.js", network.ResourceTypeScript, []string{"/chat/"}, false, true},
		{"domain glob", "https://shop.example/a/ads/b.js", network.ResourceTypeScript, []string{"SHOP.example/*/ads/"}, false, true},
		{"domain pattern on the query", "https://shop.example/x.js?v=experiment", network.ResourceTypeScript, []string{"v=experiment"}, false, true},
		{"blank pattern ignored", "https://shop.example/x.js", network.ResourceTypeScript, []string{"", " "}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := newBlocker(c.extra, c.allowResources).blocks(c.url, c.rt); got != c.blocked {
				t.Fatalf("blocks(%s) = %v, want %v", c.url, got, c.blocked)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		s, pattern string
		want       bool
	}{
		{"abc", "b", true},
		{"abc", "a*c", true},
		{"abc", "c*a", false},
		{"abc", "*", true},
		{"abc", "a**c", true},
		{"abc", "d", false},
	}
	for _, c := range cases {
		if got := match(c.s, c.pattern); got != c.want {
			t.Errorf("match(%q, %q) = %v, want %v", c.s, c.pattern, got, c.want)
		}
	}
}

func TestResultOverrides(t *testing.T) {
	cases := []struct {
		name   string
		status int
		snap   snapshot
		want   int
		header http.Header
	}{
		{"no meta", 200, snapshot{}, 200, nil},
		{"status", 200, snapshot{Status: " 404 "}, 404, nil},
		{"bad status ignored", 200, snapshot{Status: "nope"}, 200, nil},
		{"out of range ignored", 200, snapshot{Status: "1000"}, 200, nil},
		{"location split at the first colon", 200, snapshot{Status: "301", Headers: []string{"Location: https://x.example/y"}}, 301, http.Header{"Location": {"https://x.example/y"}}},
		{"several headers", 200, snapshot{Headers: []string{"X-A: 1", "X-A: 2", "Link: </a>; rel=preload"}}, 200, http.Header{"X-A": {"1", "2"}, "Link": {"</a>; rel=preload"}}},
		{"malformed headers ignored", 200, snapshot{Headers: []string{"no colon", ": empty name", "Bad Name: x", "Content-Type: text/plain"}}, 200, http.Header{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := result(c.status, c.snap)
			if r.Status != c.want || !r.Rendered || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("result %+v", r)
			}
			for k, vs := range c.header {
				if got := r.Header.Values(k); len(got) != len(vs) || got[0] != vs[0] {
					t.Fatalf("header %s = %v, want %v", k, got, vs)
				}
			}
			if c.header != nil && len(r.Header) != len(c.header)+1 {
				t.Fatalf("headers %v, want %v and Content-Type", r.Header, c.header)
			}
		})
	}
}

func TestIsHTML(t *testing.T) {
	cases := []struct {
		ct   string
		body string
		want bool
	}{
		{"text/html; charset=utf-8", "", true},
		{"application/xhtml+xml", "", true},
		{"application/json", "{}", false},
		{"image/png", "", false},
		{"", "<!DOCTYPE html><html></html>", true},
		{"", `{"a":1}`, false},
		{"garbage;;", "", false},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.ct != "" {
			h.Set("Content-Type", c.ct)
		}
		if got := isHTML(response{header: h, body: []byte(c.body)}); got != c.want {
			t.Errorf("isHTML(%q, %q) = %v, want %v", c.ct, c.body, got, c.want)
		}
	}
}

func TestMemoryOf(t *testing.T) {
	if m := memoryOf(os.Getpid()); m <= 0 {
		t.Fatalf("memoryOf(self) = %d", m)
	}
	// TestMain's Chromium runs below this process: the walk must find it
	// and count it.
	self := os.Getpid()
	if d := descendants(self); len(d) < 2 {
		t.Fatalf("descendants(self) = %v, want this process and its Chromium", d)
	}
	if all, own := memoryOf(self), pssKB(self)*1024; all <= own {
		t.Fatalf("memoryOf(self) = %d, not above this process's own %d", all, own)
	}
	if m := memoryOf(0); m != 0 {
		t.Fatalf("memoryOf(0) = %d", m)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Concurrency <= 0 || o.QueueSize != 64*o.Concurrency || o.DomainQueueSize != o.QueueSize/2 || o.WarmTabs != 2 ||
		o.Timeout != 20*time.Second || o.IdleTime != 500*time.Millisecond || o.MaxBody != 10<<20 || o.Logger == nil {
		t.Fatalf("defaults: %+v", o)
	}
	if o, _ := (Options{WarmTabs: -1}).withDefaults(); o.WarmTabs != 0 {
		t.Fatalf("WarmTabs -1 gave %d warm tabs", o.WarmTabs)
	}
	for _, bad := range []Options{{Concurrency: -1}, {QueueSize: -1}, {DomainQueueSize: -1}, {Timeout: -1}, {MaxBody: -1}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := findChrome("/nonexistent/chromium"); err == nil {
		t.Error("a missing ChromePath was accepted")
	}
}

func TestBlockerForDomainSettings(t *testing.T) {
	const img, css, tracker = "http://o.test/a.png", "http://o.test/a.css", "https://www.google-analytics.com/analytics.js"
	cases := []struct {
		name    string
		req     Request
		url     string
		rt      network.ResourceType
		blocked bool
	}{
		{"defaults block images", Request{}, img, network.ResourceTypeImage, true},
		{"defaults load stylesheets", Request{}, css, network.ResourceTypeStylesheet, false},
		{"defaults block trackers", Request{}, tracker, network.ResourceTypeScript, true},
		{"domain blocks stylesheets only", Request{BlockTypes: []string{"stylesheet"}}, css, network.ResourceTypeStylesheet, true},
		{"domain blocks stylesheets only: images load", Request{BlockTypes: []string{"stylesheet"}}, img, network.ResourceTypeImage, false},
		{"domain blocks nothing", Request{BlockTypes: []string{}}, img, network.ResourceTypeImage, false},
		{"domain allows trackers", Request{AllowTrackers: true}, tracker, network.ResourceTypeScript, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := blockerFor(c.req).blocks(c.url, c.rt); got != c.blocked {
				t.Fatalf("blocks = %v, want %v", got, c.blocked)
			}
		})
	}
}
