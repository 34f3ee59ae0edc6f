package masking

import "unsafe"

// prefetch asks the CPU to bring the cache line at p into its caches
// (PREFETCHT0), without waiting for it. It is a hint: p is not read.
//
//go:noescape
func prefetch(p unsafe.Pointer)
