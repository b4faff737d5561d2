package origin

import "github.com/rendercache/rendercache/internal/errkind"

var (
	// ErrBadHost means a domain name is malformed or not a public DNS
	// name. Errors from NormalizeHost match it under errors.Is and carry a
	// more specific client-facing message (see errkind.Of).
	ErrBadHost = errkind.New(errkind.Invalid, "invalid domain name")
	// ErrBadOrigin means an origin URL is malformed or its host does not
	// resolve. Like ErrBadHost, errors that match it carry a specific
	// message.
	ErrBadOrigin = errkind.New(errkind.Invalid, "invalid origin")
	// ErrBadPath means a URL path has a control character (raw or
	// percent-escaped) or a malformed percent-escape. Errors from CleanPath
	// match it and carry a specific message.
	ErrBadPath = errkind.New(errkind.Invalid, "invalid path")
	// ErrBlockedAddr means an origin resolves to a private, loopback,
	// link-local or reserved address that the Policy does not allow. The
	// address is in the wrapping error's text for logs, never in the
	// client-facing message, so that clients cannot map internal DNS.
	ErrBlockedAddr = errkind.New(errkind.Invalid, "origin resolves to a private, loopback, link-local or reserved IP address, which is not allowed; origins must be reachable on public addresses")
)

// reasonError is a client-facing error with a specific message that still
// matches its package sentinel: errkind.Of finds reason, whose message is
// the sentinel's followed by the specific reason, and errors.Is finds the
// sentinel.
type reasonError struct {
	reason   *errkind.Error
	sentinel *errkind.Error
}

// because returns an error matching sentinel whose message explains why.
func because(sentinel *errkind.Error, why string) error {
	return &reasonError{
		reason:   errkind.New(sentinel.Kind, sentinel.Message+": "+why),
		sentinel: sentinel,
	}
}

func (e *reasonError) Error() string { return e.reason.Message }

// Unwrap lists reason first so that errkind.Of returns the specific message.
func (e *reasonError) Unwrap() []error { return []error{e.reason, e.sentinel} }
