package ff1

import "golang.org/x/sys/cpu"

var hasAESNI = cpu.X86.HasAES

// encryptBlocks1 enciphers one block at x in place with nr rounds of
// the round keys at rk.
//
//go:noescape
func encryptBlocks1(nr int, rk *byte, x *byte)
