// Package cacheapi is the render cache's API surface: the Cache API
// (/api/cache, a domain's usage) and the Script API (/script) for account
// API keys, and the webhook refresh (/api/webhook/refresh) for webhook
// tokens, registered on the httpapi router with its own small Deps.
package cacheapi
