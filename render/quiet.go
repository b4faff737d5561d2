package render

import (
	"sync"
	"time"
)

// quietWait bounds how long opening and closing tabs wait for a browser
// to be quiet.
const quietWait = 500 * time.Millisecond

// loads counts the pages a browser is loading, so that opening and
// closing tabs, which keep the browser process busy for tens of
// milliseconds each, can wait until no page loads: the same work done
// while a page loaded tripled the load's time (70 ms to 200 ms for the
// benchmark's page), and done a moment later it costs no render anything.
// Safe for concurrent use.
type loads struct {
	mu    sync.Mutex
	n     int
	quiet chan struct{} // closed while n is 0
}

func newLoads() *loads {
	l := &loads{quiet: make(chan struct{})}
	close(l.quiet)
	return l
}

// start counts a page that starts loading; done, when it has loaded or
// failed.
func (l *loads) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		l.quiet = make(chan struct{})
	}
	l.n++
}

func (l *loads) done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if l.n == 0 {
		close(l.quiet)
	}
}

// wait returns once no page loads, after quietWait at the latest, or when
// stop is closed.
func (l *loads) wait(stop <-chan struct{}) {
	l.mu.Lock()
	quiet := l.quiet
	l.mu.Unlock()
	t := time.NewTimer(quietWait)
	defer t.Stop()
	select {
	case <-quiet:
	case <-t.C:
	case <-stop:
	}
}
