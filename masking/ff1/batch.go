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
	if n < 2 || n > maxLen || len(tweak) > maxTweak {
		return false
	}
	sh := c.cachedShape(n, len(tweak))
	if sh == nil || !sh.domain || !sh.small || sh.ql != 16 {
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
	u, b := sh.u, sh.b
	var a, bb [4]uint64
	for l, x := range xs {
		a[l], bb[l] = halves(x, u, r)
	}
	base := oneBlockBase(tweak, sh)
	baseLo := binary.BigEndian.Uint64(base[8:])
	var y [4][16]byte
	for i := range 10 {
		m, inv := sh.mod[i&1], sh.inv[i&1]
		for l := range y {
			y[l] = base
			binary.BigEndian.PutUint64(y[l][8:], baseLo^uint64(i)<<(8*b)^bb[l])
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
	for l, x := range xs {
		str(a[l], x[:u], r)
		str(bb[l], x[u:], r)
	}
	return true
}
