//go:build race

package resultmask

// raceEnabled: the race detector allocates, so allocation tests skip.
const raceEnabled = true
