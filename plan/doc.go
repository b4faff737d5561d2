// Package plan defines what each subscription plan allows (sites, monthly
// renders, API access, webhook tokens, tenants, zones), so that limits are
// data the operator can change in the config file rather than code.
package plan
