package ff1

import (
	"encoding/binary"
	"math/bits"
)

// Lanes is how many values EncryptLanes encrypts together.
const Lanes = 8

// EncryptLanes encrypts Lanes numeral strings of length n under one
// tweak in lockstep. The strings are given by their values (NUM in
// SP 800-38G: the digits in the cipher's radix, most significant first,
// leading zeros included) and replaced by the values of their
// encryptions: each is what Encrypt gives, but the eight AES blocks of
// a round go through the AES units together, so that a value waits for
// an eighth of the AES latency Encrypt waits for, and the caller who
// computes with values saves two conversions each way. It returns
// false, having changed nothing, where the lockstep path does not apply
// (a shape outside the machine-word path, a PRF input of more than one
// block, a value of more than n digits); the caller then encrypts them
// one by one.
func (c *Cipher) EncryptLanes(xs *[Lanes]uint64, n int, tweak []byte) bool {
	if n < 2 || n > maxLen || len(tweak) > maxTweak {
		return false
	}
	sh := c.cachedShape(n, len(tweak))
	if sh == nil || !sh.domain || !sh.small || sh.ql != 16 {
		return false
	}
	// The string is A (u digits) then B (n-u digits): A = x / radix^(n-u).
	modV := sh.mod[1]
	var a, b [Lanes]uint64
	for l, x := range xs {
		if a[l] = x / modV; a[l] >= sh.mod[0] {
			return false
		}
		b[l] = x % modV
	}
	// The rounds of small's machine-word path with a one-block PRF
	// input, AES(P0 ^ Q), where only Q's last eight bytes change: they
	// are the round number and NUM(B), and go to the AES units as the
	// block's second half beside the constant first.
	base := oneBlockBase(tweak, sh)
	hi := binary.LittleEndian.Uint64(base[:8])
	baseLo := binary.BigEndian.Uint64(base[8:])
	var y [Lanes]uint64
	for i := range 10 {
		m, inv := sh.mod[i&1], sh.inv[i&1]
		for l := range y {
			y[l] = bits.ReverseBytes64(baseLo ^ uint64(i)<<(8*sh.b) ^ b[l])
		}
		c.aes.encryptHalves(hi, &y)
		for l := range y {
			cc := a[l] + reduce(y[l], m, inv)
			if cc >= m {
				cc -= m
			}
			a[l], b[l] = b[l], cc
		}
	}
	for l := range xs {
		xs[l] = a[l]*modV + b[l]
	}
	return true
}
