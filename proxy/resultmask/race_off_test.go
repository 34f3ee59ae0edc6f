//go:build !race

package resultmask

const raceEnabled = false
