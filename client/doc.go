// Package client is the Go client of the rendercache HTTP API
// (api/openapi.yaml): one typed method per route, errors that carry the
// status and the API's {"error": ...} body, and retries limited to what
// is safe to send twice, across a list of nodes tried in turn.
package client
