package errkind

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsSurvivesCopy(t *testing.T) {
	sentinel := New(Conflict, "email taken")
	wire := &Error{Kind: Conflict, Message: "email taken"} // as decoded on a follower
	if !errors.Is(fmt.Errorf("apply: %w", wire), sentinel) {
		t.Fatal("decoded error does not match its sentinel")
	}
	if errors.Is(wire, New(Conflict, "other")) {
		t.Fatal("different messages matched")
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"plain", errors.New("x"), Internal},
		{"wrapped", fmt.Errorf("op: %w", New(NotFound, "nope")), NotFound},
		{"with fields", New(Forbidden, "limit").With(map[string]any{"current": 1}), Forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Fatalf("KindOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStringNamesEveryKind(t *testing.T) {
	seen := map[string]Kind{}
	for k := Internal; k <= BadMethod; k++ {
		name := k.String()
		if prev, dup := seen[name]; dup {
			t.Errorf("kinds %d and %d are both %q", prev, k, name)
		}
		seen[name] = k
	}
	if got := (BadMethod + 1).String(); got != "internal" {
		t.Errorf("unknown kind = %q, want internal", got)
	}
}

func TestParseKindInvertsString(t *testing.T) {
	for k := Internal; k <= BadMethod; k++ {
		if got := ParseKind(k.String()); got != k {
			t.Errorf("ParseKind(%q) = %v, want %v", k.String(), got, k)
		}
	}
	for _, name := range []string{"", "teapot", "NotFound", "not found"} {
		if got := ParseKind(name); got != Internal {
			t.Errorf("ParseKind(%q) = %v, want internal", name, got)
		}
	}
}
