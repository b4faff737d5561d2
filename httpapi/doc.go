// Package httpapi is the kit every API surface of the public listener is
// built on: a Router that gives each route the same metrics, request
// deadline, read scope and 404/405 answers; the one map from errors to
// statuses and JSON bodies (WriteError); bounded JSON decoding
// (DecodeJSON); credential extraction and the account and operator checks
// (Account, Admin); and cluster-wide rate limits (Limited).
//
// The surfaces themselves live in packages of their own (httpapi/admin,
// httpapi/accountapi, httpapi/cacheapi, httpapi/zones), each with a small
// Deps of just what it uses and a Register function that adds its routes
// to a Registrar; node registers every surface on one Router.
package httpapi
