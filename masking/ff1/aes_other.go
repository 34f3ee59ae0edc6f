//go:build !amd64

package ff1

const hasAESNI = false

func encryptBlocks1(nr int, rk *byte, x *byte) { panic("ff1: no AES-NI") }

func encryptHalves8(nr int, rk *byte, hi uint64, x *[Lanes]uint64) { panic("ff1: no AES-NI") }

func subWordAESNI(x uint32) uint32 { panic("ff1: no AES-NI") }
