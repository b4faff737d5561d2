package zone

import (
	"testing"
	"time"
)

// Freshness follows RFC 9111 as a shared cache reads it: s-maxage over
// max-age, nothing stored under no-store, private or no-cache, directive
// names in any case, and a header that does not parse is not trusted.
func TestFreshness(t *testing.T) {
	for _, tc := range []struct {
		cc    string
		store bool
		ttl   time.Duration
		ok    bool
	}{
		{"", true, 0, false},
		{"public", true, 0, false},
		{"max-age=60", true, time.Minute, true},
		{"public, max-age=60, s-maxage=600", true, 10 * time.Minute, true},
		{"S-MaxAge=5, Max-Age=60", true, 5 * time.Second, true},
		{`max-age="30"`, true, 30 * time.Second, true},
		{"max-age=0", true, 0, true},
		{"no-store", false, 0, false},
		{"private, max-age=600", false, 10 * time.Minute, true},
		{"no-cache", false, 0, false},
		{`no-cache="Set-Cookie", max-age=60`, false, time.Minute, true},
		{"max-age=soon", false, 0, false},
		{"max-age=99999999999", true, 2147483647 * time.Second, true},
	} {
		store, ttl, ok := Freshness(tc.cc)
		if store != tc.store || ttl != tc.ttl || ok != tc.ok {
			t.Errorf("Freshness(%q) = %v, %v, %v; want %v, %v, %v", tc.cc, store, ttl, ok, tc.store, tc.ttl, tc.ok)
		}
	}
}
