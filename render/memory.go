package render

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Chromium's renderer processes grow with every page they have shown and
// do not give the memory back, so a long-lived browser is replaced once
// its memory passes a ceiling: the new browser takes the next renders and
// the old one is shut down when its renders finish.

// memoryOf returns the proportional set size, in bytes, of pid and every
// process below it: resident memory with shared pages split between their
// sharers, so Chromium's shared libraries count once. 0 where /proc is
// missing.
func memoryOf(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		p, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
		children[ppid] = append(children[ppid], p)
	}
	var total int64
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = append(queue[1:], children[p]...)
		total += pssKB(p) * 1024
	}
	return total
}

func pssKB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// monitor replaces the browser whenever its memory passes the ceiling.
func (p *Pool) monitor() {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.MemoryCheck)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		b := p.cur
		p.mu.Unlock()
		if b == nil {
			continue
		}
		if m := memoryOf(b.pid); m > p.opts.MemoryLimit {
			p.log.Info("chromium passed its memory ceiling; replacing it", "pid", b.pid, "bytes", m, "limit", p.opts.MemoryLimit)
			p.recycle(b)
		}
	}
}

// recycle starts a new browser for new renders and retires old once the
// renders running on it end (or after a grace period).
func (p *Pool) recycle(old *browser) {
	nb, err := p.launch(p.rootCtx())
	if err != nil {
		p.log.Error("starting a replacement chromium failed; keeping the old one", "err", err)
		return
	}
	p.mu.Lock()
	if p.closed || p.cur != old {
		p.mu.Unlock()
		nb.shutdown()
		return
	}
	old.retired.Store(true)
	p.wg.Add(1)
	p.mu.Unlock()
	p.recycles.Add(1)
	p.setBrowser(nb)
	go func() {
		defer p.wg.Done()
		done := make(chan struct{})
		go func() { old.active.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3*p.opts.Timeout + 30*time.Second):
		}
		old.shutdown()
	}()
}
