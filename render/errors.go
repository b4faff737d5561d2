package render

import "github.com/rendercache/rendercache/internal/errkind"

// The package's errors. Each carries an errkind, so httpapi maps it to a
// status (400 for Invalid, 503 with Retry-After for Unavailable); wrapped
// errors match them under errors.Is.
var (
	// ErrQueueFull is returned at once when the wait queue is full. The
	// error returned carries a RetryAfter estimated from the queue; it
	// matches this sentinel under errors.Is.
	ErrQueueFull = &errkind.Error{Kind: errkind.Unavailable, Message: "render queue full", RetryAfter: 5}
	// ErrTimeout means the page was not ready in time. Such a render is
	// never a page to cache as 200.
	ErrTimeout = errkind.New(errkind.Unavailable, "render timed out")
	// ErrClosed is returned by a pool that is shutting down.
	ErrClosed = errkind.New(errkind.Unavailable, "renderer is shutting down")
	// ErrBadURL refuses URLs that are not absolute http or https URLs.
	ErrBadURL = errkind.New(errkind.Invalid, "render URL must be an absolute http or https URL")
	// ErrBadRequest refuses an unknown variant or priority.
	ErrBadRequest = errkind.New(errkind.Invalid, "render request has an unknown variant or priority")
	// ErrOrigin means the origin's document could not be fetched: a
	// refused address (the error then also wraps origin.ErrBlockedAddr),
	// a failed connection, or an oversized body.
	ErrOrigin = errkind.New(errkind.Unavailable, "the origin could not be fetched")
	// ErrBrowser means the browser failed the render: it exited twice in
	// a row, or the page's tab broke.
	ErrBrowser = errkind.New(errkind.Unavailable, "the browser failed to render the page")
)
