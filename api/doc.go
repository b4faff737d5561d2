// Package api holds the OpenAPI document of the public HTTP API, embedded
// in the binary so that every node serves the contract it was built with.
package api
