package ff1

import "encoding/binary"

// Encrypt4 encrypts four numeral strings of one length under one tweak,
// in place, in lockstep: the ten rounds of each are the same as
// Encrypt's, but the four AES blocks of a round go through the AES unit
// together, so that a value costs about a quarter of the AES latency
// Encrypt waits for. It returns false, having changed nothing, where
// the lockstep path does not apply (lengths differ, a shape outside
// the machine-word path, a PRF input of more than one block); the caller
// then encrypts them one by one.
func (c *Cipher) Encrypt4(xs *[4][]uint16, tweak []byte) bool {
	n := len(xs[0])
	for _, x := range xs[1:] {
		if len(x) != n {
			return false
		}
	}
	sh := c.lockstepShape(n, tweak)
	if sh == nil {
		return false
	}
	for _, x := range xs {
		for _, v := range x {
			if uint32(v) >= c.radix {
				return false
			}
		}
	}
	r := uint64(c.radix)
	var a, b [4]uint64
	for l, x := range xs {
		a[l], b[l] = halves(x, sh.u, r)
	}
	c.lockstep(&a, &b, sh, tweak)
	for l, x := range xs {
		str(a[l], x[:sh.u], r)
		str(b[l], x[sh.u:], r)
	}
	return true
}

// EncryptNum4 is Encrypt4 on numeral strings of length n given by their
// values (NUM in SP 800-38G: the string's digits in the cipher's radix,
// most significant first, leading zeros included), replaced by the
// values of their encryptions. It saves the caller who computes with
// the values two conversions each way. It returns false, having changed
// nothing, where Encrypt4 would, and for a value of more than n digits.
func (c *Cipher) EncryptNum4(xs *[4]uint64, n int, tweak []byte) bool {
	sh := c.lockstepShape(n, tweak)
	if sh == nil {
		return false
	}
	// The string is A (u digits) then B (n-u digits): A = x / radix^(n-u).
	modV := sh.mod[1]
	var a, b [4]uint64
	for l, x := range xs {
		if a[l] = x / modV; a[l] >= sh.mod[0] {
			return false
		}
		b[l] = x % modV
	}
	c.lockstep(&a, &b, sh, tweak)
	for l := range xs {
		xs[l] = a[l]*modV + b[l]
	}
	return true
}

// lockstepShape is the shape of (n, tweak) if the lockstep path covers
// it (the machine-word path with a one-block PRF input), or nil.
func (c *Cipher) lockstepShape(n int, tweak []byte) *shape {
	if n < 2 || n > maxLen || len(tweak) > maxTweak {
		return nil
	}
	sh := c.cachedShape(n, len(tweak))
	if sh == nil || !sh.domain || !sh.small || sh.ql != 16 {
		return nil
	}
	return sh
}

// lockstep runs the ten encryption rounds of four values' halves a and
// b (the machine-word path of small, with a one-block PRF input), the
// four AES blocks of a round together.
func (c *Cipher) lockstep(a, bb *[4]uint64, sh *shape, tweak []byte) {
	base := oneBlockBase(tweak, sh)
	baseLo := binary.BigEndian.Uint64(base[8:])
	var y [4][16]byte
	for i := range 10 {
		m, inv := sh.mod[i&1], sh.inv[i&1]
		for l := range y {
			y[l] = base
			binary.BigEndian.PutUint64(y[l][8:], baseLo^uint64(i)<<(8*sh.b)^bb[l])
		}
		c.aes.encrypt4(&y)
		for l := range y {
			ym := reduce(binary.BigEndian.Uint64(y[l][:8]), m, inv)
			cc := a[l] + ym
			if cc >= m {
				cc -= m
			}
			a[l], bb[l] = bb[l], cc
		}
	}
}
