// Package record stores typed JSON records in the replicated state, so that
// every resource package reads and writes its records the same way, inside
// Apply (through a *storage.Tx) or outside it (through *storage.State).
package record
