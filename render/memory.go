package render

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

// Chromium's renderer processes grow with every page they have shown and
// do not give the memory back, so a long-lived browser is replaced once
// its memory passes Options.MemoryLimit (see Pool.recycle).

// memoryOf returns the proportional set size, in bytes, of pid and every
// process below it: resident memory with shared pages split between their
// sharers, so that Chromium's shared libraries count once. It is 0 where
// /proc is missing.
func memoryOf(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	var total int64
	for _, p := range descendants(pid) {
		total += pssKB(p) * 1024
	}
	return total
}

// descendants returns pid and every process below it, from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		ppid, ok := parentOf(st)
		if !ok {
			continue
		}
		p, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
		children[ppid] = append(children[ppid], p)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// parentOf reads the parent PID from a /proc/<pid>/stat file. The command
// name in parentheses may hold spaces and parentheses, so the fields are
// counted from the last ')'.
func parentOf(statPath string) (int, bool) {
	b, err := os.ReadFile(statPath)
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	return ppid, err == nil
}

// pssKB returns a process's proportional set size in KiB, 0 if it is
// gone.
func pssKB(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("Pss:")); ok {
			n, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			return n
		}
	}
	return 0
}
