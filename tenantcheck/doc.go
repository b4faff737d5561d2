// Package tenantcheck answers the two read-only implementation checks of a
// tenant: the cachely-check, which probes the tenant's website surface and
// weighs the x-cachely-* headers it answers with against the stored
// configuration, and the website-implementation-check, which fetches the
// customer's public site and looks in its HTML for code that routes
// through the proxy or calls the CMS directly.
package tenantcheck
