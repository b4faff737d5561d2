// Package zone registers asset CDN zones: a DNS label under the cluster's
// CDN domain mapped to an origin, owned by one account in one mode (live
// or test), with the cache versions that purges bump.
package zone
