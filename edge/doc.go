// Package edge is the public data plane. Its Handler dispatches each
// request by host to a cache surface (rendered pages, zone assets, tenant
// sites: see Surface) or to the management API; a surface's answers are
// decoded, compressed and hashed once when they are filled, kept ready to
// write in a byte-bounded HotMap, and served with HTTP caching semantics
// (ETag and If-None-Match, If-Modified-Since, HEAD, Accept-Encoding with
// gzip and br, Range, Age and RFC 9211 Cache-Status), so that every
// surface serves a hit the same way and at the same cost: a map lookup and
// one write.
package edge
