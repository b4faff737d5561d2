// Package webhook manages per-domain webhook tokens, the separate bearer
// credential that lets a CMS or CI trigger re-renders without holding an
// account API key. Tokens are replicated as SHA-256 digests only.
package webhook
