// Package edge is the shared data plane's answer: a cached response decoded,
// compressed and hashed once when it is filled, kept ready to write in a
// byte-bounded hot map, and served with HTTP caching semantics (ETag and
// If-None-Match, If-Modified-Since, HEAD, Accept-Encoding with gzip and br,
// Range, Age and RFC 9211 Cache-Status), so that rendered pages, zone assets
// and tenant proxies all serve a hit the same way and at the same cost.
package edge
