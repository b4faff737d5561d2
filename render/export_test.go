package render

// Recycle asks p's supervisor to replace its browser, as when the browser
// passes its memory ceiling, so that tests need no tiny ceiling.
func Recycle(p *Pool) { p.recycleNow <- struct{}{} }

// MemoryOf and Descendants expose the pool's own /proc readers, so that
// tests and benchmarks do not carry copies of them.
var (
	MemoryOf    = memoryOf
	Descendants = descendants
	// ProcessPSS is one process's PSS in bytes, without its children.
	ProcessPSS = func(pid int) int64 { return pssKB(pid) * 1024 }
)
