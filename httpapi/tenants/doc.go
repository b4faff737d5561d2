// Package tenants is the tenants API of seed 004 (/api/tenants/...,
// /api/invites/accept and the cache-refresh receiver
// /api/webhooks/cache-refresh/...), with its own small Deps: the caller is
// an account API key or the operator's admin token, and the tenant
// package decides what each may do.
package tenants
