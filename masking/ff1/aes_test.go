package ff1

import (
	"bytes"
	"crypto/aes"
	"math/rand/v2"
	"testing"
)

// TestBlockCipherMatchesCryptoAES: this package's AES (the AES-NI
// assembly where the CPU has it, else crypto/aes through the pooled
// fallback) gives crypto/aes's output for every key size, and the S-box
// is AES's.
func TestBlockCipherMatchesCryptoAES(t *testing.T) {
	if sbox[0x00] != 0x63 || sbox[0x01] != 0x7c || sbox[0x53] != 0xed || sbox[0xff] != 0x16 {
		t.Fatalf("S-box wrong: %x %x %x %x", sbox[0], sbox[1], sbox[0x53], sbox[0xff])
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kl := range []int{16, 24, 32} {
		for range 50 {
			key := make([]byte, kl)
			for i := range key {
				key[i] = byte(rng.Uint32())
			}
			ref, _ := aes.NewCipher(key)
			for _, fast := range []bool{hasAESNI, false} {
				bc, err := newBlockCipher(key)
				if err != nil {
					t.Fatal(err)
				}
				bc.fast = fast
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
	bc, _ := newBlockCipher(key)
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
