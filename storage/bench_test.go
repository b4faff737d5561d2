package storage

import (
	"testing"

	raftbench "github.com/hashicorp/raft/bench"
)

// Each benchmark gets a fresh database, as raft's helpers assume.

func BenchmarkFirstIndex(b *testing.B) { raftbench.FirstIndex(b, openTest(b, "").LogStore()) }
func BenchmarkLastIndex(b *testing.B)  { raftbench.LastIndex(b, openTest(b, "").LogStore()) }
func BenchmarkGetLog(b *testing.B)     { raftbench.GetLog(b, openTest(b, "").LogStore()) }
func BenchmarkStoreLog(b *testing.B)   { raftbench.StoreLog(b, openTest(b, "").LogStore()) }
func BenchmarkStoreLogs(b *testing.B)  { raftbench.StoreLogs(b, openTest(b, "").LogStore()) }
func BenchmarkDeleteRange(b *testing.B) {
	raftbench.DeleteRange(b, openTest(b, "").LogStore())
}
func BenchmarkSet(b *testing.B)       { raftbench.Set(b, openTest(b, "").StableStore()) }
func BenchmarkGet(b *testing.B)       { raftbench.Get(b, openTest(b, "").StableStore()) }
func BenchmarkSetUint64(b *testing.B) { raftbench.SetUint64(b, openTest(b, "").StableStore()) }
func BenchmarkGetUint64(b *testing.B) { raftbench.GetUint64(b, openTest(b, "").StableStore()) }
