// Package tenant keeps the tenants of seed 004 in raft: a slug with its
// CMS and origin configuration and cache versions, the accounts that are
// its members with their roles, pending invites, and a bounded audit log
// of who changed what. Authorization is decided inside Apply, on committed
// state, by the pure rules in role.go, so two racing writes can never
// leave a tenant without an owner.
package tenant
