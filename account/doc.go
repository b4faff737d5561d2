// Package account manages customer accounts, the first replicated resource:
// every account lives in the raft state machine so that any node can
// authenticate and authorise its requests.
package account
