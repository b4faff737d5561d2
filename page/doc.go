// Package page is the render surface of the data plane: it turns a
// crawler's request for a page of a registered domain into a cache key
// carrying the versions that apply, answers it from the cluster-wide cache
// through edge, and on a miss renders the page once, on the key's owner,
// which builds its edge.Answer once and keeps it in its on-disk L2. It
// decides freshness (the domain's TTL), serves stale pages while
// re-rendering them in the background, never lets a failed render replace
// a good page, passes people through to the origin, and answers the
// prerender-compatible endpoints.
//
// Background re-renders (stale-while-revalidate, guarded refreshes,
// proactive recache) go through the quality guard (package page/quality):
// a render clearly worse than the cached page is rejected, counted,
// logged and retried with backoff while the good page stays. The owner of
// each page keeps a bounded index of the pages crawlers asked for and
// re-renders them before they expire (recache.go).
package page
