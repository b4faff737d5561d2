// Package page is the render cache's data plane: it turns a crawler's
// request for a page of a registered domain into a cache key, answers it
// from the cluster-wide cache, and on a miss renders the page once, on the
// key's owner, which also keeps it in its on-disk L2. It decides freshness
// (the domain's TTL), serves stale pages while re-rendering them in the
// background, and never lets a failed render replace a good page.
package page
