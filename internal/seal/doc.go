// Package seal encrypts the secrets that must be shown again or sent
// onwards (tenant webhook secrets, CMS API tokens) with AES-256-GCM under
// one data key, so that raft's log, snapshots and Pebble only ever hold
// ciphertext.
package seal
