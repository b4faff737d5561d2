// Package tenantproxy serves tenants' hosts (<slug>.<tenant-domain>) on
// the edge data plane: the CMS API proxy under /~api/, which injects the
// tenant's sealed CMS token, and the website proxy for every other path,
// each cached cluster-wide in its own groupcache group under the
// tenant's cache versions.
package tenantproxy
