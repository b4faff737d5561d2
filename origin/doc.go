// Package origin validates the hostnames and origin URLs customers register,
// and keeps every fetch of an origin away from private, loopback, link-local
// and reserved addresses so that rendercache cannot be turned against its
// own network (SSRF), even by DNS that changes after validation.
package origin
