package origin

import (
	"context"
	"strings"
	"testing"
)

// Policy.Origin parses, checks and normalises in one step, and refuses an
// over-long origin whatever follows its first 2048 bytes.
func TestPolicyOrigin(t *testing.T) {
	open := Policy{AllowPrivate: true}
	if got, err := open.Origin(context.Background(), " HTTP://127.0.0.1:9000/ "); err != nil || got != "http://127.0.0.1:9000" {
		t.Fatalf("normalised origin: %q %v", got, err)
	}
	if _, err := (Policy{}).Origin(context.Background(), "http://127.0.0.1:9000"); err == nil {
		t.Fatal("a loopback origin passed the default policy")
	}
	long := "http://example.com/" + strings.Repeat("a", 2040) + " junk"
	if _, err := open.Origin(context.Background(), long); err == nil {
		t.Fatal("an origin over 2048 bytes was accepted")
	}
}
