// Package httpapi serves rendercache's public HTTP API on httprouter: the
// seeds' management APIs, the operator's /admin API, and health and metrics
// endpoints. Handlers return errors; one function turns them into statuses
// and the documented JSON error shape.
package httpapi
