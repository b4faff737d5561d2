// Package peer is node-to-node RPC on the internal listener: requests are
// authenticated with the cluster key, so that forwarding, cache fills and
// index gathering are never reachable by clients of the public API, and
// every RPC goes through one call helper (Call, Do) and one handler helper
// (Handle, WriteError) that share one wire format for errors.
//
// An RPC is a POST of a JSON request to a path on the peer's internal
// listener. The answer is 200 with the JSON response, or 424 with the
// handler's error:
//
//	{"error": {"kind": "not_found", "message": "Job not found", "retryAfter": 30, "fields": {"current": 3}}}
//
// kind is an errkind name, and the caller gets the error back as an
// *errkind.Error, so errors.Is against the sentinel it came from and
// errkind.Of work across nodes. Any other status (401 without the cluster
// key, 404 for an unknown route) carries the same body but means that no
// handler acted on the request: the caller sees ErrUnreachable.
package peer
