// Package accountapi is the account's own API surface: its API keys
// (/api/keys), its domains (/api/domains) and their webhook tokens,
// authenticated by the account's API key on every plan, registered on the
// httpapi router with its own small Deps.
package accountapi
