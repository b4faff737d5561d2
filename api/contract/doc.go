// Package contract holds HTTP traffic against the OpenAPI document
// (api/openapi.yaml). Its middleware is test-only: testcluster wraps every
// node's public handler with it, so each request a test sends and each
// answer it gets is checked, and a mismatch fails the test.
package contract
