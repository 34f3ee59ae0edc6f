package ff1

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"sync"
)

// blockCipher is AES encryption of single blocks. With AES-NI (amd64) it
// runs this package's own assembly over a key schedule expanded here
// (its S-box lookups are AES-NI's too, so no table is indexed by key
// bytes): a call passes no slice through an interface, so FF1's buffers
// stay on the stack. Elsewhere it is crypto/aes, and only that.
//
// Like any AES key schedule, rk begins with the key itself; it lives as
// long as the cipher and is never printed (Cipher's String shows the
// radix only).
type blockCipher struct {
	fast  bool
	nr    int           // rounds: 10, 12 or 14 (fast)
	rk    [15 * 16]byte // round keys, in AESENC's byte order (fast)
	block cipher.Block  // crypto/aes (not fast)
	pool  *sync.Pool    // *[16]byte, the fallback's heap buffers
}

// newBlockCipher expands a 16-, 24- or 32-byte key for the AES-NI
// assembly (fast) or for crypto/aes.
func newBlockCipher(key []byte, fast bool) (*blockCipher, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, aes.KeySizeError(len(key))
	}
	bc := &blockCipher{fast: fast, nr: len(key)/4 + 6}
	if fast {
		expandKey(key, bc.rk[:])
		return bc, nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	bc.block = block
	bc.pool = &sync.Pool{New: func() any { return new([16]byte) }}
	return bc, nil
}

// encrypt enciphers the block x in place.
func (bc *blockCipher) encrypt(x *[16]byte) {
	if bc.fast {
		encryptBlocks1(bc.nr, &bc.rk[0], &x[0])
		return
	}
	bc.slow(x[:])
}

// encryptHalves enciphers Lanes blocks whose first eight bytes are hi's
// and last eight x[l]'s (both as stored little-endian), replacing x[l]
// with the first eight bytes of block l's ciphertext read big-endian.
func (bc *blockCipher) encryptHalves(hi uint64, x *[Lanes]uint64) {
	if bc.fast {
		encryptHalves8(bc.nr, &bc.rk[0], hi, x)
		return
	}
	var y [16]byte
	for l := range x {
		binary.LittleEndian.PutUint64(y[:8], hi)
		binary.LittleEndian.PutUint64(y[8:], x[l])
		bc.slow(y[:])
		x[l] = binary.BigEndian.Uint64(y[:8])
	}
}

// slow is crypto/aes through a pooled buffer, so that callers' arrays do
// not escape through the cipher.Block interface.
//
//go:noinline
func (bc *blockCipher) slow(x []byte) {
	buf := bc.pool.Get().(*[16]byte)
	copy(buf[:], x)
	bc.block.Encrypt(buf[:], buf[:])
	copy(x, buf[:])
	clear(buf[:])
	bc.pool.Put(buf)
}

// expandKey writes the AES key schedule of FIPS 197 section 5.2 for a
// 16-, 24- or 32-byte key into rk, as 16-byte round keys. SubWord is
// AES-NI's (subWordAESNI), so it needs the CPU feature the fast path
// needs anyway.
func expandKey(key []byte, rk []byte) {
	nk := len(key) / 4
	nr := nk + 6
	var w [4 * 15]uint32
	for i := range nk {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	rcon := uint32(1)
	for i := nk; i < 4*(nr+1); i++ {
		t := w[i-1]
		switch {
		case i%nk == 0:
			t = subWordAESNI(t<<8|t>>24) ^ rcon<<24
			rcon = uint32(xtime(byte(rcon)))
		case nk > 6 && i%nk == 4:
			t = subWordAESNI(t)
		}
		w[i] = w[i-nk] ^ t
	}
	for i, x := range w[:4*(nr+1)] {
		binary.BigEndian.PutUint32(rk[4*i:], x)
	}
	clear(w[:])
}

// xtime multiplies by x in AES's field GF(2^8).
func xtime(b byte) byte {
	if b&0x80 != 0 {
		return b<<1 ^ 0x1b
	}
	return b << 1
}
