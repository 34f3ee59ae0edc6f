package ff1

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"sync"
)

// blockCipher is AES encryption of single blocks. With AES-NI (amd64) it
// runs this package's own assembly over a key schedule expanded here: a
// call passes no slice through an interface, so FF1's buffers stay on the
// stack. Elsewhere it is crypto/aes.
type blockCipher struct {
	fast  bool
	nr    int           // rounds: 10, 12 or 14
	rk    [15 * 16]byte // round keys, in AESENC's byte order
	block cipher.Block  // crypto/aes, for the fallback and as a reference
	pool  *sync.Pool    // *[16]byte, the fallback's heap buffers
}

func newBlockCipher(key []byte) (*blockCipher, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	bc := &blockCipher{fast: hasAESNI, nr: len(key)/4 + 6, block: block}
	bc.pool = &sync.Pool{New: func() any { return new([16]byte) }}
	expandKey(key, bc.rk[:])
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

// slow is crypto/aes through a pooled buffer, so that
// callers' arrays do not escape through the cipher.Block interface.
//
//go:noinline
func (bc *blockCipher) slow(x []byte) {
	buf := bc.pool.Get().(*[16]byte)
	copy(buf[:], x)
	bc.block.Encrypt(buf[:], buf[:])
	copy(x, buf[:])
	bc.pool.Put(buf)
}

// expandKey writes the AES key schedule of FIPS 197 section 5.2 for a
// 16-, 24- or 32-byte key into rk, as 16-byte round keys.
func expandKey(key []byte, rk []byte) {
	nk := len(key) / 4
	nr := nk + 6
	w := make([]uint32, 4*(nr+1))
	for i := range nk {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	rcon := uint32(1)
	for i := nk; i < len(w); i++ {
		t := w[i-1]
		switch {
		case i%nk == 0:
			t = subWord(t<<8|t>>24) ^ rcon<<24
			rcon = uint32(xtime(byte(rcon)))
		case nk > 6 && i%nk == 4:
			t = subWord(t)
		}
		w[i] = w[i-nk] ^ t
	}
	for i, x := range w {
		binary.BigEndian.PutUint32(rk[4*i:], x)
	}
	clear(w)
}

func subWord(x uint32) uint32 {
	return uint32(sbox[x>>24])<<24 | uint32(sbox[x>>16&0xff])<<16 | uint32(sbox[x>>8&0xff])<<8 | uint32(sbox[x&0xff])
}

// xtime multiplies by x in AES's field GF(2^8).
func xtime(b byte) byte {
	if b&0x80 != 0 {
		return b<<1 ^ 0x1b
	}
	return b << 1
}

// sbox is AES's S-box, computed (multiplicative inverse, then the affine
// map) rather than typed in.
var sbox = func() (s [256]byte) {
	// p runs over the field's non-zero elements as powers of the
	// generator 3, q over their inverses (powers of 3's inverse).
	p, q := byte(1), byte(1)
	for {
		p ^= xtime(p) // p *= 3
		q ^= q << 1   // q /= 3
		q ^= q << 2
		q ^= q << 4
		if q&0x80 != 0 {
			q ^= 0x09
		}
		x := q ^ (q<<1 | q>>7) ^ (q<<2 | q>>6) ^ (q<<3 | q>>5) ^ (q<<4 | q>>4)
		s[p] = x ^ 0x63
		if p == 1 {
			break
		}
	}
	s[0] = 0x63
	return s
}()
