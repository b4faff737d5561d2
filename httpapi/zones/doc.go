// Package zones is the asset CDN's management API (/v1/zones, /v1/purge,
// /v1/usage), authenticated by X-ResCDN-Key and registered on the
// httpapi server with its own small set of dependencies.
package zones
