// Package periodic runs a node's background chores (L2 sweeps, usage
// reports, key last-use flushes) on a fixed interval, so each chore is its
// work alone and every loop stops the same way when its context ends.
package periodic

import (
	"context"
	"time"
)

// Run calls f every interval, first one interval from now, until ctx ends.
// A slow f delays the next call rather than overlapping it.
func Run(ctx context.Context, interval time.Duration, f func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}
