package ff1

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"sync"
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
	block cipher.Block
	radix uint32
}

// New returns FF1 with an AES-128, -192 or -256 key (16, 24 or 32 bytes)
// for numerals of the given radix (2 to 65536). The key is not retained
// beyond the AES key schedule.
func New(key []byte, radix int) (*Cipher, error) {
	if radix < 2 || radix > MaxRadix {
		return nil, fmt.Errorf("ff1: radix %d outside 2..%d", radix, MaxRadix)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("ff1: key must be 16, 24 or 32 bytes (got %d)", len(key))
	}
	return &Cipher{block: block, radix: uint32(radix)}, nil
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
	if !domainOK(c.radix, n) {
		return ErrDomain
	}
	for _, x := range src {
		if uint32(x) >= c.radix {
			return ErrNumeral
		}
	}
	u := n / 2
	v := n - u
	if modU, okU := pow64(c.radix, u); okU {
		if modV, okV := pow64(c.radix, v); okV && bits.Len64(modV-1) <= 32 {
			c.small(dst, src, tweak, enc, u, v, modU, modV)
			return nil
		}
	}
	c.large(dst, src, tweak, enc, u, v)
	return nil
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
		lo := binary.LittleEndian.Uint64(y[:8]) ^ binary.LittleEndian.Uint64(q[:8])
		hi := binary.LittleEndian.Uint64(y[8:]) ^ binary.LittleEndian.Uint64(q[8:16])
		binary.LittleEndian.PutUint64(y[:8], lo)
		binary.LittleEndian.PutUint64(y[8:], hi)
		c.block.Encrypt(y[:], y[:])
		q = q[16:]
	}
}

// qLen is the length of Q: tweak, zero padding, round byte and b bytes of
// the numeral, padded so that the whole is a multiple of 16.
func qLen(t, b int) int {
	pad := (-(t+b+1)%16 + 16) % 16
	return t + pad + 1 + b
}

// scratch holds the small path's buffers: passed to cipher.Block through
// an interface they would escape to the heap on every round.
type scratch struct {
	p, p0, y [16]byte
	q        [64]byte
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// small is FF1 when both halves and their encodings fit in machine words
// (b <= 4, so d = 8 and y is one uint64).
func (c *Cipher) small(dst, src []uint16, tweak []byte, enc bool, u, v int, modU, modV uint64) {
	r := uint64(c.radix)
	b := (bits.Len64(modV-1) + 7) / 8
	var a, bb uint64
	for _, x := range src[:u] {
		a = a*r + uint64(x)
	}
	for _, x := range src[u:] {
		bb = bb*r + uint64(x)
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	header(&sc.p, c.radix, u, len(src), len(tweak))
	c.block.Encrypt(sc.p0[:], sc.p[:])

	var q []byte
	ql := qLen(len(tweak), b)
	if ql <= len(sc.q) {
		q = sc.q[:ql]
		clear(q)
	} else {
		q = make([]byte, ql)
	}
	copy(q, tweak)
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
		num := bb
		if !enc {
			num = a
		}
		for j := b - 1; j >= 0; j-- {
			q[ql-b+j] = byte(num)
			num >>= 8
		}
		sc.y = sc.p0
		c.prf(&sc.y, q)
		yy := binary.BigEndian.Uint64(sc.y[:8])
		if enc {
			sum, carry := bits.Add64(a, yy, 0)
			var cc uint64
			if carry == 0 {
				cc = sum % m // one hardware division; Rem64 takes two
			} else {
				cc = bits.Rem64(carry, sum, m)
			}
			a, bb = bb, cc
		} else {
			ym := yy % m
			var cc uint64
			if bb >= ym {
				cc = bb - ym
			} else {
				cc = bb + (m - ym)
			}
			bb, a = a, cc
		}
	}
	for j := u - 1; j >= 0; j-- {
		dst[j] = uint16(a % r)
		a /= r
	}
	for j := len(src) - 1; j >= u; j-- {
		dst[j] = uint16(bb % r)
		bb /= r
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
	var p0 [16]byte
	c.block.Encrypt(p0[:], p[:])
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
			c.block.Encrypt(s[16*j:], blk[:])
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
