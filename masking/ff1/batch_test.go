package ff1

import (
	"math/rand/v2"
	"testing"
)

// TestEncryptLanesMatchesEncrypt: the lockstep path gives each value the
// ciphertext Encrypt gives its numeral string, for the lengths and
// tweaks tokens use, on both AES implementations (so the assembly's
// block halves and byte orders are checked against crypto/aes); it
// declines what it does not cover and then changes nothing.
func TestEncryptLanesMatchesEncrypt(t *testing.T) {
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
					var nums [Lanes]uint64
					var want [Lanes][]uint16
					for l := range nums {
						want[l] = make([]uint16, n)
						for i := range want[l] {
							want[l][i] = uint16(rng.IntN(10))
							nums[l] = nums[l]*10 + uint64(want[l][i])
						}
						if err := c.Encrypt(want[l], want[l], tweak); err != nil {
							t.Fatal(err)
						}
					}
					if !c.EncryptLanes(&nums, n, tweak) {
						t.Fatalf("n=%d tweak %q: EncryptLanes declined", n, tweak)
					}
					for l := range nums {
						w := uint64(0)
						for _, d := range want[l] {
							w = w*10 + uint64(d)
						}
						if nums[l] != w {
							t.Fatalf("fast=%v n=%d tweak %q lane %d: %d, Encrypt gives %v", fast, n, tweak, l, nums[l], want[l])
						}
					}
				}
			}
		}
		big := [Lanes]uint64{1, 2, 1000000000, 3}
		orig := big
		if c.EncryptLanes(&big, 9, nil) || big != orig {
			t.Errorf("EncryptLanes took a 10-digit value as 9 digits: %v", big)
		}
		if c.EncryptLanes(&big, 1, nil) || c.EncryptLanes(&big, 30, nil) || big != orig {
			t.Errorf("EncryptLanes took a length outside the machine-word path: %v", big)
		}
	}
}

// BenchmarkEncryptLanes is eight 14-digit values (an ID token's FF1) in
// lockstep; compare eight times BenchmarkEncrypt14DigitsShortTweak.
func BenchmarkEncryptLanes(b *testing.B) {
	c, _ := New(make([]byte, 32), 10)
	var xs [Lanes]uint64
	for l := range xs {
		xs[l] = 31010519900030 + uint64(l)
	}
	tweak := []byte{'I'}
	b.ReportAllocs()
	for b.Loop() {
		if !c.EncryptLanes(&xs, 14, tweak) {
			b.Fatal("declined")
		}
	}
}
