//go:build race

package ff1

// raceEnabled: the race detector allocates, so allocation tests skip.
const raceEnabled = true
