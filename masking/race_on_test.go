//go:build race

package masking

// raceEnabled: the race detector allocates, so allocation tests skip.
const raceEnabled = true
