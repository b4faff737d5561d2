package edge

import (
	"context"
	"net/http"
)

// Surface is one kind of cached answer that edge serves by request host:
// the rendered pages of registered domains (package page), later the
// assets of zones and the sites of tenants. A surface says which hosts
// are its own, how a request maps to a cache key that carries the
// versions that apply, and how to fill a miss; edge does the rest (the
// hot map, HTTP caching semantics, metrics) the same way for every
// surface. Implementations must be safe for concurrent use.
type Surface interface {
	// Name labels the surface in metrics: "page", "zone", "tenant".
	Name() string
	// Site returns the site that host names, reading local state only:
	// a hit never waits on raft. host is in CanonicalHost's form. ok is
	// false when local state knows no such host; edge then takes one
	// fresh (read-index) lookup and asks again before refusing it.
	Site(host string) (site Site, ok bool)
	// Claims reports whether host could only ever be this surface's,
	// whatever the state holds (a zone host under --cdn-domain): such a
	// host that is not found even after the fresh lookup is refused with
	// 404 rather than handed to the management API.
	Claims(host string) bool
}

// Site is what one host of a surface (or one Router request) serves.
// Implementations must be safe for concurrent use.
type Site interface {
	// Key appends to buf the full cache key of what r asks for, with
	// the versions that apply read from local state (kind/owner/
	// version/...), so that a purge, which bumps a version, makes the
	// next request a miss. It is on every hit's path: it should not
	// allocate. ok false means r is not answered from the cache, and
	// Pass answers it (a person's request to a render domain); an error
	// refuses r (a malformed URL).
	Key(buf []byte, r *http.Request) (key []byte, ok bool, err error)
	// Fill returns key's answer after a hot-map miss (from the cluster's
	// cache, or filled on the key's owner) and whether it was filled for
	// this request (Miss) or already cached (Hit). ctx bounds the wait.
	Fill(ctx context.Context, r *http.Request, key string) (*Answer, Outcome, error)
	// Pass answers r without the cache: when Key said r is not cached
	// (err is nil), or when Fill failed with err, which Pass may answer
	// in its own way (a render over quota gets the origin's page) or
	// return for edge to write as an error.
	Pass(w http.ResponseWriter, r *http.Request, err error) error
}

// Router is implemented by a Surface that also claims requests by path,
// whatever their host: the render surface's prerender-compatible
// endpoints (GET /https://host/path and /render?url=). Routers are asked
// after hosts and before the management API, so Route must reject
// requests that are not its own cheaply, by path alone.
type Router interface {
	// Route returns the site that answers r, ok false if r is not the
	// router's, or an error that refuses r (a missing or invalid token).
	Route(r *http.Request) (site Site, ok bool, err error)
}
