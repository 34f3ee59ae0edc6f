package ff1

import (
	"bytes"
	"crypto/aes"
	"math/rand/v2"
	"testing"
)

// TestBlockCipherMatchesCryptoAES: this package's AES (the AES-NI
// assembly where the CPU has it, else crypto/aes through the pooled
// fallback) gives crypto/aes's output for every key size.
func TestBlockCipherMatchesCryptoAES(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kl := range []int{16, 24, 32} {
		for range 50 {
			key := make([]byte, kl)
			for i := range key {
				key[i] = byte(rng.Uint32())
			}
			ref, _ := aes.NewCipher(key)
			for _, fast := range []bool{hasAESNI, false} {
				bc, err := newBlockCipher(key, fast)
				if err != nil {
					t.Fatal(err)
				}
				var x [16]byte
				for i := range x {
					x[i] = byte(rng.Uint32())
				}
				want := make([]byte, 16)
				ref.Encrypt(want, x[:])
				bc.encrypt(&x)
				if !bytes.Equal(x[:], want) {
					t.Fatalf("key size %d fast=%v: AES differs from crypto/aes", kl, fast)
				}
			}
		}
	}
}

// TestFIPS197Vector: the AES-256 example of FIPS 197 appendix C.3.
func TestFIPS197Vector(t *testing.T) {
	key := make([]byte, 32)
	var x [16]byte
	for i := range key {
		key[i] = byte(i)
	}
	for i := range x {
		x[i] = byte(i<<4 | i)
	}
	bc, _ := newBlockCipher(key, hasAESNI)
	bc.encrypt(&x)
	want := []byte{0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf, 0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49, 0x60, 0x89}
	if !bytes.Equal(x[:], want) {
		t.Fatalf("got %x, want %x", x, want)
	}
}

// TestEncryptAllocatesNothing: the machine-word path, with a one-byte
// tweak (a token's) and with a long one (past the shape cache), keeps
// everything on the stack.
func TestEncryptAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c, _ := New(make([]byte, 32), 10)
	x := []uint16{3, 1, 0, 1, 0, 5, 1, 9, 9, 0, 0, 3, 0, 7}
	for _, tweak := range [][]byte{{'I'}, []byte("a tweak longer than the cached shapes' sixteen bytes")} {
		if n := testing.AllocsPerRun(100, func() {
			if err := c.Encrypt(x, x, tweak); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("tweak of %d bytes: %v allocations per Encrypt", len(tweak), n)
		}
	}
}

// TestSubWordAESNI: the AES-NI S-box of the key schedule is FIPS 197's,
// for every byte in every position of the word.
func TestSubWordAESNI(t *testing.T) {
	if !hasAESNI {
		t.Skip("no AES-NI")
	}
	if refSbox[0x00] != 0x63 || refSbox[0x01] != 0x7c || refSbox[0x53] != 0xed || refSbox[0xff] != 0x16 {
		t.Fatalf("reference S-box wrong: %x %x %x %x", refSbox[0], refSbox[1], refSbox[0x53], refSbox[0xff])
	}
	for b := range 256 {
		for shift := 0; shift < 32; shift += 8 {
			x := uint32(b)<<shift | uint32(0x01)<<((shift+8)%32)
			want := uint32(refSbox[b])<<shift | uint32(refSbox[0x01])<<((shift+8)%32) | uint32(refSbox[0])<<((shift+16)%32) | uint32(refSbox[0])<<((shift+24)%32)
			if got := subWordAESNI(x); got != want {
				t.Fatalf("subWord(%08x) = %08x, want %08x", x, got, want)
			}
		}
	}
}

// refSbox is AES's S-box, computed (multiplicative inverse, then the
// affine map) as a reference for the key schedule's.
var refSbox = func() (s [256]byte) {
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
