package apikey

import (
	"errors"
	"testing"
)

// A key request's mode picks live or test keys; anything else is refused.
func TestRequestInput(t *testing.T) {
	cases := []struct {
		mode string
		test bool
		err  error
	}{
		{"", false, nil},
		{"live", false, nil},
		{"test", true, nil},
		{"TEST", false, ErrBadMode},
		{"staging", false, ErrBadMode},
	}
	for _, tc := range cases {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			in, err := Request{Name: "ci", Roles: []string{"script"}, Mode: tc.mode}.Input()
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err == nil && (in.Test != tc.test || in.Name != "ci" || len(in.Roles) != 1) {
				t.Fatalf("input %+v, want test=%v with the request's name and roles", in, tc.test)
			}
		})
	}
}
