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
