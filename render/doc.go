// Package render turns a JavaScript page into the HTML a crawler can read.
//
// A node keeps one long-lived Chromium and renders each page in a tab of
// its own, in a browser context of its own, because starting a browser
// costs a second and hundreds of megabytes while a tab costs tens of
// milliseconds; and the browser keeps a few tabs open ahead of renders
// (warm tabs), so that a render only navigates. Renders wait in a bounded
// priority queue so that live crawler requests overtake refresh and
// warm-up jobs, and, within a priority, domains share the slots fairly
// (Request.Domain), so that one customer's burst cannot starve the
// others. A full queue answers at once (503 with Retry-After) instead of
// piling up.
//
// Every request the page makes is answered by Go, not by Chromium's own
// network stack: the tab intercepts all requests (the Fetch domain), and
// this package fetches them with a transport that checks every dialled
// address against the origin policy. So a page cannot reach private,
// loopback or link-local addresses through a subrequest, a redirect or DNS
// rebinding, and images, fonts, media and trackers are refused before they
// cost anything. The main document is fetched once, before the tab opens,
// which also yields its true status and its first redirect unfollowed.
//
// A page is ready, once loaded, when its network has been idle for a
// while, or, when it set window.prerenderReady = false, at the moment it
// sets it to true (a hook in the page reports that moment); a page that is
// not ready within the timeout is an error (ErrTimeout), never a page to
// cache. Scripts are stripped from the output, except JSON-LD.
//
// A crashed browser is started again; renders in flight fail cleanly and
// are retried once on the new browser. A hung browser (one that stops
// answering, or a render wedged well past its timeout) is killed and
// replaced, and a browser past its memory ceiling is replaced between
// renders. Close leaves no process, directory or goroutine behind.
package render
