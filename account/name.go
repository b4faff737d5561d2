package account

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rendercache/rendercache/internal/errkind"
)

// MaxNameBytes bounds the name an account gives one of its resources (an
// API key, a webhook token). Names are replicated through raft and shown
// in listings, so they are short, printable text.
const MaxNameBytes = 100

// CheckName validates such a name, reported as the JSON field field. A
// name is required, at most MaxNameBytes of valid UTF-8, without control
// characters and without leading or trailing white space. Errors are
// errkind.Invalid and say which rule failed.
func CheckName(field, name string) error {
	bad := func(rule string) error {
		return errkind.New(errkind.Invalid, fmt.Sprintf("field %q %s", field, rule))
	}
	switch {
	case name == "":
		return bad("is required")
	case len(name) > MaxNameBytes:
		return bad(fmt.Sprintf("must be at most %d bytes", MaxNameBytes))
	case !utf8.ValidString(name):
		return bad("must be valid UTF-8")
	case strings.ContainsFunc(name, unicode.IsControl):
		return bad("must not contain control characters")
	case strings.TrimSpace(name) != name:
		return bad("must not start or end with white space")
	}
	return nil
}
