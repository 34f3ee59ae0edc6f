package ff1

import "golang.org/x/sys/cpu"

var hasAESNI = cpu.X86.HasAES

// encryptBlocks1 enciphers one block at x in place with nr rounds of
// the round keys at rk.
//
//go:noescape
func encryptBlocks1(nr int, rk *byte, x *byte)

// encryptBlocks4 enciphers the four blocks at x in place with nr rounds
// of the round keys at rk, interleaved.
//
//go:noescape
func encryptBlocks4(nr int, rk *byte, x *[4][16]byte)

// subWordAESNI applies AES's S-box to each byte of x: AESENCLAST with a
// zero round key on x in all four columns (ShiftRows then moves nothing
// that differs, and the last round has no MixColumns).
func subWordAESNI(x uint32) uint32
