package pgcluster

// SetPickPort replaces the free-port chooser for a test and returns a
// function restoring it.
func SetPickPort(f func() (int, error)) (restore func()) {
	old := pickPort
	pickPort = f
	return func() { pickPort = old }
}

// PickPort exposes the real free-port chooser.
var PickPort = pickPort
