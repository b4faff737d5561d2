//go:build race

package edge

// raceEnabled: the race detector changes allocation counts.
const raceEnabled = true
