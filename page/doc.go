// Package page is the render surface of the data plane: it turns a
// crawler's request for a page of a registered domain into a cache key
// carrying the versions that apply, answers it from the cluster-wide cache
// through edge, and on a miss renders the page once, on the key's owner,
// which builds its edge.Answer once and keeps it in its on-disk L2. It
// decides freshness (the domain's TTL), serves stale pages while
// re-rendering them in the background, never lets a failed render replace
// a good page, passes people through to the origin, and answers the
// prerender-compatible endpoints.
package page
