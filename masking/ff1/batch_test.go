package ff1

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestEncrypt4MatchesEncrypt: the lockstep paths (digits and values)
// give each value the ciphertext Encrypt gives it, for the lengths and
// tweaks tokens use, on both AES implementations; they decline what they
// do not cover.
func TestEncrypt4MatchesEncrypt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	for _, fast := range []bool{false, hasAESNI} {
		bc, err := newBlockCipher(key, fast)
		if err != nil {
			t.Fatal(err)
		}
		c := &Cipher{aes: bc, radix: 10}
		for _, n := range []int{6, 9, 11, 14, 17} {
			for _, tweak := range [][]byte{nil, {'I'}, []byte("card")} {
				for range 50 {
					var xs [4][]uint16
					var want [4][]uint16
					for l := range xs {
						xs[l] = make([]uint16, n)
						for i := range xs[l] {
							xs[l][i] = uint16(rng.IntN(10))
						}
						want[l] = slices.Clone(xs[l])
						if err := c.Encrypt(want[l], want[l], tweak); err != nil {
							t.Fatal(err)
						}
					}
					var nums [4]uint64
					for l, x := range xs {
						for _, d := range x {
							nums[l] = nums[l]*10 + uint64(d)
						}
					}
					if !c.Encrypt4(&xs, tweak) || !c.EncryptNum4(&nums, n, tweak) {
						t.Fatalf("n=%d tweak %q: Encrypt4 or EncryptNum4 declined", n, tweak)
					}
					for l := range xs {
						if !slices.Equal(xs[l], want[l]) {
							t.Fatalf("fast=%v n=%d tweak %q lane %d: %v, Encrypt gives %v", fast, n, tweak, l, xs[l], want[l])
						}
						w := uint64(0)
						for _, d := range want[l] {
							w = w*10 + uint64(d)
						}
						if nums[l] != w {
							t.Fatalf("fast=%v n=%d tweak %q lane %d: EncryptNum4 gives %d, Encrypt %v", fast, n, tweak, l, nums[l], want[l])
						}
					}
				}
			}
		}
		mixed := [4][]uint16{make([]uint16, 9), make([]uint16, 10), make([]uint16, 9), make([]uint16, 9)}
		if c.Encrypt4(&mixed, nil) {
			t.Error("Encrypt4 took values of different lengths")
		}
		big := [4]uint64{1, 2, 1000000000, 3}
		if c.EncryptNum4(&big, 9, nil) || big != [4]uint64{1, 2, 1000000000, 3} {
			t.Errorf("EncryptNum4 took a 10-digit value as 9 digits: %v", big)
		}
	}
}

// BenchmarkEncrypt4 is four 14-digit values (an ID token's FF1) in
// lockstep; compare four times BenchmarkEncrypt14DigitsShortTweak.
func BenchmarkEncrypt4(b *testing.B) {
	c, _ := New(make([]byte, 32), 10)
	var xs [4][]uint16
	for l := range xs {
		xs[l] = []uint16{3, 1, 0, 1, 0, 5, 1, 9, 9, 0, 0, 3, 0, uint16(l)}
	}
	tweak := []byte{'I'}
	b.ReportAllocs()
	for b.Loop() {
		if !c.Encrypt4(&xs, tweak) {
			b.Fatal("declined")
		}
	}
}
