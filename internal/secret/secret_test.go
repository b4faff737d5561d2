package secret

import (
	"strings"
	"testing"
)

func TestNewHasShapeAndIsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k := New("rk_live_")
		if !HasShape(k, "rk_live_") {
			t.Fatalf("%q has the wrong shape", k)
		}
		if seen[k] {
			t.Fatal("duplicate secret")
		}
		seen[k] = true
	}
}

func TestHasShape(t *testing.T) {
	good := "rk_live_" + strings.Repeat("a", 32)
	tests := []struct {
		name, in string
		want     bool
	}{
		{"good", good, true},
		{"wrong prefix", "rk_test_" + strings.Repeat("a", 32), false},
		{"short", good[:len(good)-1], false},
		{"long", good + "a", false},
		{"symbol", "rk_live_" + strings.Repeat("a", 31) + "-", false},
		{"unicode", "rk_live_" + strings.Repeat("a", 30) + "é", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HasShape(tt.in, "rk_live_"); got != tt.want {
				t.Fatalf("HasShape(%q) = %v", tt.in, got)
			}
		})
	}
}

func FuzzHasShape(f *testing.F) {
	f.Add("rk_live_" + strings.Repeat("Z", 32))
	f.Add("rk_wh_x")
	f.Fuzz(func(t *testing.T, s string) {
		if HasShape(s, "rk_live_") && (len(s) != 40 || !strings.HasPrefix(s, "rk_live_")) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestHashAndEqual(t *testing.T) {
	h := Hash("x")
	if len(h) != 64 || !Equal(h, Hash("x")) || Equal(h, Hash("y")) {
		t.Fatal("hash/equal broken")
	}
	// Stored digests are SHA-256 in hex, as the brief requires.
	if h != "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" {
		t.Fatalf("Hash(x) = %s, not SHA-256 hex", h)
	}
}
