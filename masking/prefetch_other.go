//go:build !amd64

package masking

import "unsafe"

// prefetch is a no-op where pgmantle has no assembly for it.
func prefetch(p unsafe.Pointer) {}
