package ff1

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"sync/atomic"
)

// MinDomain is the smallest radix^length FF1 accepts (SP 800-38G Rev. 1).
const MinDomain = 1_000_000

// MaxRadix is the largest radix: numerals are uint16.
const MaxRadix = 1 << 16

// maxLen bounds the numeral string's length (2^32 in the standard; far
// less is ever useful here, and the bound keeps arithmetic in range).
const maxLen = 1 << 16

// maxTweak bounds the tweak's length in bytes.
const maxTweak = 1 << 16

var (
	// ErrDomain means radix^length is below MinDomain.
	ErrDomain = errors.New("ff1: domain radix^length is below 1,000,000")
	// ErrNumeral means a numeral is not below the radix.
	ErrNumeral = errors.New("ff1: numeral out of range for the radix")
	// ErrLength means the string is shorter than 2 or longer than the
	// package supports, or dst and src differ in length.
	ErrLength = errors.New("ff1: bad numeral string length")
	// ErrTweak means the tweak is longer than the package supports.
	ErrTweak = errors.New("ff1: tweak too long")
)

// Cipher is FF1 under one AES key for one radix. It is safe for
// concurrent use. Printing it shows the radix, never the key.
type Cipher struct {
	aes    *blockCipher
	radix  uint32
	shapes [maxShapeN + 1][maxShapeT + 1]atomic.Pointer[shape]
}

// New returns FF1 with an AES-128, -192 or -256 key (16, 24 or 32 bytes)
// for numerals of the given radix (2 to 65536). The cipher keeps the AES
// key schedule (which, as in any AES implementation, begins with the key
// itself), not the caller's slice.
func New(key []byte, radix int) (*Cipher, error) {
	return newCipher(key, radix, hasAESNI)
}

// newCipher is New with the choice of AES: the AES-NI assembly (fast) or
// crypto/aes. Tests use it to run both.
func newCipher(key []byte, radix int, fast bool) (*Cipher, error) {
	if radix < 2 || radix > MaxRadix {
		return nil, fmt.Errorf("ff1: radix %d outside 2..%d", radix, MaxRadix)
	}
	bc, err := newBlockCipher(key, fast)
	if err != nil {
		return nil, fmt.Errorf("ff1: key must be 16, 24 or 32 bytes (got %d)", len(key))
	}
	return &Cipher{aes: bc, radix: uint32(radix)}, nil
}

// Radix is the cipher's radix.
func (c *Cipher) Radix() int { return int(c.radix) }

// String describes the cipher without its key.
func (c *Cipher) String() string { return fmt.Sprintf("ff1.Cipher{radix: %d}", c.radix) }

// GoString is String.
func (c *Cipher) GoString() string { return c.String() }

// Encrypt writes the encryption of src under tweak to dst (same length;
// dst may be src).
func (c *Cipher) Encrypt(dst, src []uint16, tweak []byte) error {
	return c.crypt(dst, src, tweak, true)
}

// Decrypt writes the decryption of src under tweak to dst (same length;
// dst may be src).
func (c *Cipher) Decrypt(dst, src []uint16, tweak []byte) error {
	return c.crypt(dst, src, tweak, false)
}

// Domain reports whether radix^n is at least MinDomain.
func (c *Cipher) Domain(n int) bool { return domainOK(c.radix, n) }

func domainOK(radix uint32, n int) bool {
	if n < 2 {
		return false
	}
	// radix >= 2, so n >= 20 always suffices.
	if n >= 20 {
		return true
	}
	return math.Pow(float64(radix), float64(n)) >= MinDomain-0.5
}

func (c *Cipher) crypt(dst, src []uint16, tweak []byte, enc bool) error {
	n := len(src)
	if len(dst) != n || n < 2 || n > maxLen {
		return ErrLength
	}
	if len(tweak) > maxTweak {
		return ErrTweak
	}
	sh := c.cachedShape(n, len(tweak))
	var tmp shape
	if sh == nil {
		tmp = c.newShape(n, len(tweak))
		sh = &tmp
	}
	if !sh.domain {
		return ErrDomain
	}
	for _, x := range src {
		if uint32(x) >= c.radix {
			return ErrNumeral
		}
	}
	if sh.small {
		c.small(dst, src, tweak, enc, sh)
		return nil
	}
	c.large(dst, src, tweak, enc, sh.u, n-sh.u)
	return nil
}

// Shapes of up to maxShapeN numerals and maxShapeT tweak bytes (every
// token pgmantle makes) have their constants computed once per cipher.
const (
	maxShapeN = 40
	maxShapeT = 15
)

// shape is what FF1 derives from the radix, the length n and the tweak
// length t alone: the halves, the domain check, the encoded length b of
// a half, and for the machine-word path the moduli radix^u and radix^v
// with their reciprocals and P enciphered (every PRF starts with it).
type shape struct {
	domain, small bool
	u, b, ql      int
	mod, inv      [2]uint64 // [0] for radix^u, [1] for radix^v
	p0            [16]byte
}

// cachedShape returns the constants of (n, t), or nil for a shape too
// large to cache.
func (c *Cipher) cachedShape(n, t int) *shape {
	if n > maxShapeN || t > maxShapeT {
		return nil
	}
	if sh := c.shapes[n][t].Load(); sh != nil {
		return sh
	}
	sh := c.newShape(n, t)
	c.shapes[n][t].Store(&sh) // a concurrent store writes the same value
	return &sh
}

func (c *Cipher) newShape(n, t int) shape {
	sh := shape{domain: domainOK(c.radix, n), u: n / 2}
	if !sh.domain {
		return sh
	}
	modU, okU := pow64(c.radix, sh.u)
	modV, okV := pow64(c.radix, n-sh.u)
	if okU && okV && bits.Len64(modV-1) <= 32 {
		sh.small = true
		sh.b = (bits.Len64(modV-1) + 7) / 8
		sh.ql = qLen(t, sh.b)
		sh.mod = [2]uint64{modU, modV}
		sh.inv = [2]uint64{^uint64(0) / modU, ^uint64(0) / modV}
		header(&sh.p0, c.radix, sh.u, n, t)
		c.aes.encrypt(&sh.p0)
	}
	return sh
}

// reduce is x mod m for 1 <= m <= 2^32, given inv = (2^64-1)/m. Writing
// 2^64-1 = inv*m + s (0 <= s < m), x/m - x*inv/2^64 = x(1+s)/(m*2^64) < 1,
// so the quotient estimate hi(x*inv) is the true one or one below it and
// the remainder needs at most one correction (r < 2m <= 2^33).
func reduce(x, m, inv uint64) uint64 {
	q, _ := bits.Mul64(x, inv)
	r := x - q*m
	if r >= m {
		r -= m
	}
	return r
}

// pow64 returns r^k if it fits in 64 bits.
func pow64(r uint32, k int) (uint64, bool) {
	p := uint64(1)
	for range k {
		hi, lo := bits.Mul64(p, uint64(r))
		if hi != 0 {
			return 0, false
		}
		p = lo
	}
	return p, true
}

// header writes P (the first PRF block) for radix, u, n and tweak length t.
func header(p *[16]byte, radix uint32, u, n, t int) {
	p[0], p[1], p[2] = 1, 2, 1
	p[3], p[4], p[5] = byte(radix>>16), byte(radix>>8), byte(radix)
	p[6] = 10
	p[7] = byte(u)
	binary.BigEndian.PutUint32(p[8:], uint32(n))
	binary.BigEndian.PutUint32(p[12:], uint32(t))
}

// prf is CBC-MAC over P (already enciphered as y) followed by q, whose
// length is a multiple of 16. It leaves the result in y.
func (c *Cipher) prf(y *[16]byte, q []byte) {
	for len(q) >= 16 {
		xorBlock(y, q)
		c.aes.encrypt(y)
		q = q[16:]
	}
}

func xorBlock(y *[16]byte, q []byte) {
	lo := binary.LittleEndian.Uint64(y[:8]) ^ binary.LittleEndian.Uint64(q[:8])
	hi := binary.LittleEndian.Uint64(y[8:]) ^ binary.LittleEndian.Uint64(q[8:16])
	binary.LittleEndian.PutUint64(y[:8], lo)
	binary.LittleEndian.PutUint64(y[8:], hi)
}

// qLen is the length of Q: tweak, zero padding, round byte and b bytes of
// the numeral, padded so that the whole is a multiple of 16.
func qLen(t, b int) int {
	pad := (-(t+b+1)%16 + 16) % 16
	return t + pad + 1 + b
}

// small is FF1 when both halves and their encodings fit in machine words
// (b <= 4, so d = 8 and y is one uint64; radix^v <= 2^32). The halves
// stay integers through the rounds: NUM and STR only at the ends.
func (c *Cipher) small(dst, src []uint16, tweak []byte, enc bool, sh *shape) {
	r := uint64(c.radix)
	u, b, ql := sh.u, sh.b, sh.ql
	a, bb := halves(src, u, r)
	// Q is the tweak, zero padding, the round number i and NUM(B) in b
	// bytes. In the common case of one block, the PRF is AES(P0 ^ Q), and
	// only Q's last eight bytes change between rounds: P0 ^ Q is kept as
	// a constant block whose low half (big-endian) takes i<<8b ^ NUM(B).
	var base [16]byte
	var qbuf [64]byte
	var q []byte
	switch {
	case ql == 16:
		base = oneBlockBase(tweak, sh)
	case ql <= len(qbuf):
		q = qbuf[:ql]
		copy(q, tweak)
	default:
		q = make([]byte, ql)
		copy(q, tweak)
	}
	baseLo := binary.BigEndian.Uint64(base[8:])
	for k := range 10 {
		i := k
		if !enc {
			i = 9 - k
		}
		m, inv := sh.mod[i&1], sh.inv[i&1]
		num := bb
		if !enc {
			num = a
		}
		var y [16]byte
		if q == nil {
			y = base
			binary.BigEndian.PutUint64(y[8:], baseLo^uint64(i)<<(8*b)^num)
			c.aes.encrypt(&y)
		} else {
			q[ql-b-1] = byte(i)
			for j := b - 1; j >= 0; j-- {
				q[ql-b+j] = byte(num)
				num >>= 8
			}
			y = sh.p0
			c.prf(&y, q)
		}
		ym := reduce(binary.BigEndian.Uint64(y[:8]), m, inv)
		if enc {
			cc := a + ym // a < m <= 2^32: no overflow
			if cc >= m {
				cc -= m
			}
			a, bb = bb, cc
		} else {
			cc := bb - ym
			if bb < ym {
				cc = bb + (m - ym)
			}
			bb, a = a, cc
		}
	}
	str(a, dst[:u], r)
	str(bb, dst[u:len(src)], r)
}

// halves reads the two halves of src (split at u) as integers of radix
// r (NUM in SP 800-38G; the machine-word path).
func halves(src []uint16, u int, r uint64) (a, b uint64) {
	for _, x := range src[:u] {
		a = a*r + uint64(x)
	}
	for _, x := range src[u:] {
		b = b*r + uint64(x)
	}
	return a, b
}

// oneBlockBase is, for a PRF input of one block (sh.ql == 16), the
// enciphered header P0 XOR the tweak: the block each round's Q changes
// only in its last eight bytes.
func oneBlockBase(tweak []byte, sh *shape) [16]byte {
	var base [16]byte
	copy(base[:], tweak)
	xorBlock(&base, sh.p0[:])
	return base
}

// str writes x as len(out) numerals of radix r (STR in SP 800-38G);
// radix 10, the common one, divides by a constant.
func str(x uint64, out []uint16, r uint64) {
	if r == 10 {
		for j := len(out) - 1; j >= 0; j-- {
			out[j] = uint16(x % 10)
			x /= 10
		}
		return
	}
	for j := len(out) - 1; j >= 0; j-- {
		out[j] = uint16(x % r)
		x /= r
	}
}

// large is FF1 with math/big, for any length the package accepts.
func (c *Cipher) large(dst, src []uint16, tweak []byte, enc bool, u, v int) {
	r := big.NewInt(int64(c.radix))
	modU := new(big.Int).Exp(r, big.NewInt(int64(u)), nil)
	modV := new(big.Int).Exp(r, big.NewInt(int64(v)), nil)
	vm1 := new(big.Int).Sub(modV, big.NewInt(1))
	b := (vm1.BitLen() + 7) / 8
	d := 4*((b+3)/4) + 4

	num := func(xs []uint16) *big.Int {
		z := new(big.Int)
		x := new(big.Int)
		for _, n := range xs {
			z.Mul(z, r)
			z.Add(z, x.SetUint64(uint64(n)))
		}
		return z
	}
	a, bb := num(src[:u]), num(src[u:])

	var p [16]byte
	header(&p, c.radix, u, len(src), len(tweak))
	p0 := p
	c.aes.encrypt(&p0)
	ql := qLen(len(tweak), b)
	q := make([]byte, ql)
	copy(q, tweak)
	s := make([]byte, (d+15)/16*16)
	y := new(big.Int)
	cc := new(big.Int)
	for k := range 10 {
		i := k
		if !enc {
			i = 9 - k
		}
		m := modU
		if i%2 == 1 {
			m = modV
		}
		q[ql-b-1] = byte(i)
		numB := bb
		if !enc {
			numB = a
		}
		clear(q[ql-b:])
		numB.FillBytes(q[ql-b:])
		var rr [16]byte
		rr = p0
		c.prf(&rr, q)
		copy(s, rr[:])
		for j := 1; j*16 < d; j++ {
			var blk [16]byte
			binary.BigEndian.PutUint64(blk[8:], uint64(j))
			for x := range 16 {
				blk[x] ^= rr[x]
			}
			c.aes.encrypt(&blk)
			copy(s[16*j:], blk[:])
		}
		y.SetBytes(s[:d])
		if enc {
			cc.Add(a, y)
			cc.Mod(cc, m)
			a, bb, cc = bb, cc, a
		} else {
			cc.Sub(bb, y)
			cc.Mod(cc, m) // Euclidean: non-negative
			bb, a, cc = a, cc, bb
		}
	}
	str := func(z *big.Int, out []uint16) {
		z = new(big.Int).Set(z)
		rem := new(big.Int)
		for j := len(out) - 1; j >= 0; j-- {
			z.QuoRem(z, r, rem)
			out[j] = uint16(rem.Uint64())
		}
	}
	str(a, dst[:u])
	str(bb, dst[u:])
}
