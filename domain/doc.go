// Package domain registers customer domains (a hostname, the origin it is
// rendered from, and its cache and render settings). A domain belongs to
// exactly one account, which is how every request for it is authorised.
package domain
