package crawler

import (
	"net/http/httptest"
	"testing"
)

func TestShouldRender(t *testing.T) {
	const chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	cases := []struct {
		name, method, target, ua string
		want                     bool
	}{
		{"googlebot page", "GET", "/products/1", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true},
		{"googlebot head", "HEAD", "/", "Googlebot/2.1", true},
		{"bingbot", "GET", "/", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", true},
		{"facebook preview", "GET", "/post", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", true},
		{"gptbot", "GET", "/", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", true},
		{"claudebot", "GET", "/", "ClaudeBot/1.0; +claudebot@anthropic.com", true},
		{"person", "GET", "/", chrome, false},
		{"escaped fragment from a person", "GET", "/?_escaped_fragment_=", chrome, true},
		{"crawler asks for an asset", "GET", "/static/app.JS", "Googlebot/2.1", false},
		{"crawler asks for an image", "GET", "/logo.png", "Googlebot-Image/1.0 Googlebot", false},
		{"crawler posts", "POST", "/", "Googlebot/2.1", false},
		{"empty agent", "GET", "/", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.target, nil)
			r.Header.Set("User-Agent", c.ua)
			if got := ShouldRender(r); got != c.want {
				t.Fatalf("ShouldRender = %v, want %v", got, c.want)
			}
		})
	}
}

func TestIsMobile(t *testing.T) {
	cases := []struct {
		name, ua string
		want     bool
	}{
		{"googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true},
		{"googlebot desktop", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", false},
		{"iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := IsMobile(c.ua); got != c.want {
				t.Fatalf("IsMobile = %v, want %v", got, c.want)
			}
		})
	}
}

func FuzzShouldRender(f *testing.F) {
	f.Add("/", "Googlebot")
	f.Add("/a.b.c/../x.css?_escaped_fragment_=1", "")
	f.Fuzz(func(t *testing.T, p, ua string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = p
		r.Header.Set("User-Agent", ua)
		ShouldRender(r)
		IsMobile(ua)
	})
}

// Classify remembers agents, so that a hit matches no substring again and
// allocates nothing; the answers are those of the uncached match.
func TestClassifyCachedAndAllocationFree(t *testing.T) {
	const ua = "Mozilla/5.0 (Linux; Android 6.0.1) Mobile (compatible; Googlebot/2.1)"
	if c := Classify(ua); c != Crawler|Mobile {
		t.Fatalf("Classify = %b, want crawler and mobile", c)
	}
	if n := testing.AllocsPerRun(100, func() { Classify(ua) }); n != 0 {
		t.Fatalf("Classify of a known agent allocates %v times", n)
	}
	r := httptest.NewRequest("GET", "/products/1", nil)
	r.Header.Set("User-Agent", ua)
	if n := testing.AllocsPerRun(100, func() { ShouldRender(r) }); n != 0 {
		t.Fatalf("ShouldRender allocates %v times", n)
	}
}
