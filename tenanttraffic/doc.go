// Package tenanttraffic accounts for what tenant hosts serve: per-tenant
// request, cache and status counts, bytes and top paths per surface (the
// CMS API proxy and the website) and UTC day, and a request log, without
// a raft write per request.
//
// Counters roll up through raft, as render usage does (package usage):
// the node that served a request counts it in memory, and every report
// interval (--usage-report-interval) proposes its running totals of the
// tenant-days that changed. The replicated state keeps each node's
// latest totals per tenant and day (tenanttraffic/<day>/<slug>/<node>);
// a read sums them, taking this node's own figures from memory. So a
// figure read on one node is exact for that node and lags the other
// nodes by at most one report interval plus a commit, and survives the
// loss of the node that served the traffic. Rolling up was chosen over
// gathering from every member on read because usage is what a plan is
// measured by: a dead or removed node's traffic must still count.
//
// Bounds: a node keeps at most 64 paths per tenant, day and surface in
// memory (the space-saving algorithm: a new path past the bound replaces
// the least counted one, so heavy paths are never lost) and reports the
// top 10; a path is cut to 256 bytes. A report command carries at most
// 128 tenant-days (a node with more changed sends several); a node keeps
// in memory only the days it still counts (today, and yesterday around
// midnight). Records older than RetentionDays are deleted by the next
// report after that, so the state holds at most RetentionDays x tenants
// served x nodes records of about 1 KiB.
//
// Request logs are node-local: each node appends its entries to Pebble
// (once a second, in one batch) and a read gathers every live member's
// newest entries over the internal listener and merge-sorts them by
// time. Entries keep the path without its query string, so no token,
// preview secret or other query parameter is ever logged, and no header
// is kept. Each node keeps at most LogsPerTenant entries per tenant (an
// eighth more between trims) and none older than LogRetention, pruned as
// it writes and every PruneInterval, and logs at most 8192 requests a
// second (past that, entries are dropped and counted; counters never
// drop). A dead member's entries are missing from reads until it is back.
package tenanttraffic
