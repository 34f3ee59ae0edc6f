package ff1

import "golang.org/x/sys/cpu"

// hasAESNI: AES-NI, with SSE4.1 for the halves path (every AES-NI
// processor has it).
var hasAESNI = cpu.X86.HasAES && cpu.X86.HasSSE41

// encryptBlocks1 enciphers one block at x in place with nr rounds of
// the round keys at rk.
//
//go:noescape
func encryptBlocks1(nr int, rk *byte, x *byte)

// encryptHalves8 enciphers eight blocks given as a common first half hi
// and the second halves x (little-endian words), replacing x[l] with the
// first half of block l's ciphertext read big-endian.
//
//go:noescape
func encryptHalves8(nr int, rk *byte, hi uint64, x *[Lanes]uint64)

// subWordAESNI applies AES's S-box to each byte of x: AESENCLAST with a
// zero round key on x in all four columns (ShiftRows then moves nothing
// that differs, and the last round has no MixColumns).
func subWordAESNI(x uint32) uint32
