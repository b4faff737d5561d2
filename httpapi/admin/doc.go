// Package admin is the operator's API surface: /admin (the cluster's
// state, accounts and their first API keys, behind the admin token) and
// the unauthenticated /healthz and /readyz probes, registered on the
// httpapi router with its own small Deps.
package admin
