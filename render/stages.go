package render

import (
	"sync/atomic"
	"time"
)

// stage is one step of a render, timed so that metrics (and the render
// benchmarks) show where a render's time goes.
type stage int

// The stages, in the order a render passes them.
const (
	stageQueue     stage = iota // waiting for a slot
	stageFetch                  // fetching the document (Go)
	stageOpen                   // getting a tab: a warm one, else a browser context and a target, attached
	stageSetup                  // switching the tab's device emulation to the variant's
	stageLoad                   // navigation until the load event
	stageReady                  // load event until the page is ready
	stageSnapshot               // stripping scripts and serialising, round trip included
	stageStrip                  // of which stripping scripts, in the page
	stageSerialise              // of which serialising the DOM, in the page
	stageClose                  // closing the tab and its context, after the render returned
	stageIntercept              // answering intercepted requests (summed; they overlap)
	numStages
)

var stageNames = [numStages]string{
	stageQueue: "queue", stageFetch: "fetch", stageOpen: "open", stageSetup: "setup", stageLoad: "load",
	stageReady: "ready", stageSnapshot: "snapshot", stageStrip: "strip", stageSerialise: "serialise",
	stageClose: "close", stageIntercept: "intercept",
}

func (s stage) String() string { return stageNames[s] }

// stageClock sums the time spent in each stage over all renders. Safe for
// concurrent use.
type stageClock struct {
	nanos [numStages]atomic.Int64
}

// add records d spent in st.
func (c *stageClock) add(st stage, d time.Duration) { c.nanos[st].Add(int64(d)) }

// since records the time since start spent in st and returns now, the
// start of the next stage.
func (c *stageClock) since(st stage, start time.Time) time.Time {
	now := time.Now()
	c.add(st, now.Sub(start))
	return now
}

// totals returns the time per stage name.
func (c *stageClock) totals() map[string]time.Duration {
	out := make(map[string]time.Duration, numStages)
	for i := range numStages {
		out[stageNames[i]] = time.Duration(c.nanos[i].Load())
	}
	return out
}
