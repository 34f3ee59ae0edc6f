package ff1

// Review tests for the AES-NI / shape-cache / Barrett rewrite of FF1
// (commits a4e33db and cfa8794). They check the package against an
// independent, deliberately naive FF1 written from SP 800-38G Rev. 1
// (crypto/aes + math/big, no shared helpers), the key schedule against
// FIPS 197 appendix A, reduce on every modulus the machine-word path can
// use, the assembly's memory footprint, and the shape cache under racing
// first use.

import (
	"bytes"
	"crypto/aes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// refFF1 is FF1.Encrypt / FF1.Decrypt of SP 800-38G Rev. 1, section 5.1
// and 5.2, step by step.
func refFF1(key []byte, radix int, tweak []byte, x []uint16, enc bool) []uint16 {
	blk, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	n, t := len(x), len(tweak)
	u := n / 2
	v := n - u
	R := big.NewInt(int64(radix))
	pow := func(k int) *big.Int { return new(big.Int).Exp(R, big.NewInt(int64(k)), nil) }
	num := func(xs []uint16) *big.Int {
		z := new(big.Int)
		for _, d := range xs {
			z.Mul(z, R).Add(z, big.NewInt(int64(d)))
		}
		return z
	}
	strm := func(z *big.Int, m int) []uint16 {
		out := make([]uint16, m)
		z = new(big.Int).Set(z)
		rem := new(big.Int)
		for j := m - 1; j >= 0; j-- {
			z.QuoRem(z, R, rem)
			out[j] = uint16(rem.Int64())
		}
		return out
	}
	// b = ceil(ceil(v*LOG2(radix))/8): the least b with 2^(8b) >= radix^v.
	rv := pow(v)
	b := 0
	for new(big.Int).Lsh(big.NewInt(1), uint(8*b)).Cmp(rv) < 0 {
		b++
	}
	d := 4*((b+3)/4) + 4
	P := []byte{1, 2, 1, byte(radix >> 16), byte(radix >> 8), byte(radix), 10, byte(u % 256)}
	P = binary.BigEndian.AppendUint32(P, uint32(n))
	P = binary.BigEndian.AppendUint32(P, uint32(t))
	pad := ((-t-b-1)%16 + 16) % 16
	F := func(i int, nb *big.Int) *big.Int {
		Q := append([]byte{}, tweak...)
		Q = append(Q, make([]byte, pad)...)
		Q = append(Q, byte(i))
		nbb := nb.Bytes()
		Q = append(Q, make([]byte, b-len(nbb))...)
		Q = append(Q, nbb...)
		msg := append(append([]byte{}, P...), Q...)
		if len(msg)%16 != 0 {
			panic("P||Q not whole blocks")
		}
		y := make([]byte, 16) // CBC-MAC, IV 0
		for k := 0; k < len(msg); k += 16 {
			for j := range 16 {
				y[j] ^= msg[k+j]
			}
			blk.Encrypt(y, y)
		}
		S := append([]byte{}, y...)
		for j := 1; len(S) < d; j++ {
			var c [16]byte
			binary.BigEndian.PutUint64(c[8:], uint64(j))
			for k := range 16 {
				c[k] ^= y[k]
			}
			blk.Encrypt(c[:], c[:])
			S = append(S, c[:]...)
		}
		return new(big.Int).SetBytes(S[:d])
	}
	A, B := num(x[:u]), num(x[u:])
	if enc {
		for i := 0; i <= 9; i++ {
			m := u
			if i%2 == 1 {
				m = v
			}
			c := new(big.Int).Add(A, F(i, B))
			c.Mod(c, pow(m))
			A, B = B, c
		}
	} else {
		for i := 9; i >= 0; i-- {
			m := u
			if i%2 == 1 {
				m = v
			}
			c := new(big.Int).Sub(B, F(i, A))
			c.Mod(c, pow(m))
			B, A = A, c
		}
	}
	return append(strm(A, u), strm(B, v)...)
}

func minLen(radix int) int {
	n, p := 0, uint64(1)
	for p < MinDomain || n < 2 {
		p *= uint64(radix)
		n++
	}
	return n
}

// TestReviewRefSelfCheck: the reference gives NIST's sample vectors (so
// that a disagreement below is the package's, not the reference's).
func TestReviewRefSelfCheck(t *testing.T) {
	for _, s := range loadSamples(t) {
		key, _ := hex.DecodeString(s.Key)
		tweak, _ := hex.DecodeString(s.Tweak)
		a, _ := NewAlphabet(base36[:s.Radix])
		pt, _ := a.Numerals(nil, s.Plaintext)
		ct, _ := a.Numerals(nil, s.Ciphertext)
		if got := refFF1(key, s.Radix, tweak, pt, true); !slices.Equal(got, ct) {
			t.Fatalf("sample %d: reference encrypt wrong", s.Sample)
		}
		if got := refFF1(key, s.Radix, tweak, ct, false); !slices.Equal(got, pt) {
			t.Fatalf("sample %d: reference decrypt wrong", s.Sample)
		}
	}
}

// TestReviewAgainstReference: Encrypt and Decrypt (each checked on its
// own, not only as a round trip) equal the reference for random keys,
// radixes, lengths and tweak lengths; with the AES-NI path and the
// crypto/aes fallback; covering the one-block shortcut (ql == 16), the
// stack Q (ql <= 64), the heap Q, cached and uncached shapes, and the
// math/big path.
func TestReviewAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(0x5eed, 38))
	radixes := []int{2, 3, 4, 5, 7, 8, 10, 11, 16, 26, 31, 36, 62, 64, 100, 255, 256, 257, 1000, 1001, 3755, 4096, 65535, 65536}
	for range 40 {
		radixes = append(radixes, 2+rng.IntN(65535))
	}
	var paths [4]int // one-block small, multi-block small, large, uncached
	for _, radix := range radixes {
		for _, fast := range []bool{true, false} {
			if fast && !hasAESNI {
				continue
			}
			key := make([]byte, []int{16, 24, 32}[rng.IntN(3)])
			for i := range key {
				key[i] = byte(rng.Uint32())
			}
			c, err := newCipher(key, radix, fast)
			if err != nil {
				t.Fatal(err)
			}
			lo := minLen(radix)
			for range 12 {
				n := lo + rng.IntN(24)
				if rng.IntN(8) == 0 {
					n = lo + rng.IntN(90)
				}
				tl := rng.IntN(20)
				switch rng.IntN(4) {
				case 0:
					tl = 40 + rng.IntN(40) // either side of the 64-byte stack Q
				case 1:
					tl = 12 + rng.IntN(5) // either side of maxShapeT
				}
				tweak := make([]byte, tl)
				for i := range tweak {
					tweak[i] = byte(rng.Uint32())
				}
				x := make([]uint16, n)
				for i := range x {
					x[i] = uint16(rng.IntN(radix))
				}
				sh := c.newShape(n, tl)
				switch {
				case n > maxShapeN || tl > maxShapeT:
					paths[3]++
				case !sh.small:
					paths[2]++
				case sh.ql == 16:
					paths[0]++
				default:
					paths[1]++
				}
				for _, enc := range []bool{true, false} {
					got := make([]uint16, n)
					if err := c.crypt(got, x, tweak, enc); err != nil {
						t.Fatalf("radix %d n %d t %d: %v", radix, n, tl, err)
					}
					if want := refFF1(key, radix, tweak, x, enc); !slices.Equal(got, want) {
						t.Fatalf("radix %d n %d tweak %d key %d fast %v enc %v: got %v want %v", radix, n, tl, len(key), fast, enc, got, want)
					}
				}
			}
		}
	}
	for i, k := range paths {
		if k < 20 {
			t.Fatalf("path %d exercised only %d times: %v", i, k, paths)
		}
	}
}

// TestReviewEdgeModuli: shapes whose modulus radix^v is exactly 2^32 (the
// largest the machine-word path takes, b = 4) or just past it (math/big),
// every tweak length that puts Q in one block, and all-zero and all-max
// inputs.
func TestReviewEdgeModuli(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	cases := []struct{ radix, n int }{
		{2, 64}, {2, 65}, {2, 63}, {4, 32}, {16, 16}, {16, 17}, {256, 8}, {256, 9},
		{65536, 2}, {65536, 3}, {65536, 4}, {65536, 5}, {65535, 4}, {10, 18}, {10, 19}, {10, 20},
		{1000, 2}, {999, 3}, {3, 13},
	}
	for _, cs := range cases {
		c, _ := New(key, cs.radix)
		for tl := 0; tl <= 17; tl++ {
			tweak := bytes.Repeat([]byte{byte(0xA0 + tl)}, tl)
			for _, fill := range []uint16{0, uint16(cs.radix - 1)} {
				x := make([]uint16, cs.n)
				for i := range x {
					x[i] = fill
				}
				for _, enc := range []bool{true, false} {
					got := make([]uint16, cs.n)
					if err := c.crypt(got, x, tweak, enc); err != nil {
						t.Fatalf("radix %d n %d: %v", cs.radix, cs.n, err)
					}
					if want := refFF1(key, cs.radix, tweak, x, enc); !slices.Equal(got, want) {
						t.Fatalf("radix %d n %d t %d enc %v: got %v want %v", cs.radix, cs.n, tl, enc, got, want)
					}
				}
			}
		}
	}
}

// TestReviewShapeB: the machine-word path is taken exactly when both
// halves fit in 64 bits and radix^v <= 2^32, and its b is SP 800-38G's
// ceil(ceil(v*log2 radix)/8) (the least b with 2^(8b) >= radix^v).
func TestReviewShapeB(t *testing.T) {
	for radix := 2; radix <= MaxRadix; radix++ {
		step := 1
		if radix > 300 {
			step = 97 // sample the long tail
		}
		if radix%step != 0 && radix != MaxRadix && radix != MaxRadix-1 {
			continue
		}
		c := &Cipher{aes: mustBC(t), radix: uint32(radix)}
		for n := 2; n <= 70; n++ {
			sh := c.newShape(n, 0)
			v := n - n/2
			rv := new(big.Int).Exp(big.NewInt(int64(radix)), big.NewInt(int64(v)), nil)
			wantSmall := sh.domain && rv.Cmp(new(big.Int).Lsh(big.NewInt(1), 32)) <= 0
			if sh.small != wantSmall {
				t.Fatalf("radix %d n %d: small %v want %v", radix, n, sh.small, wantSmall)
			}
			if !sh.small {
				continue
			}
			b := 0
			for new(big.Int).Lsh(big.NewInt(1), uint(8*b)).Cmp(rv) < 0 {
				b++
			}
			if sh.b != b || sh.mod[1] != rv.Uint64() {
				t.Fatalf("radix %d n %d: b %d mod %d, want %d %v", radix, n, sh.b, sh.mod[1], b, rv)
			}
			if sh.ql%16 != 0 || sh.ql != qLen(0, b) {
				t.Fatalf("radix %d n %d: ql %d", radix, n, sh.ql)
			}
		}
	}
}

func mustBC(t *testing.T) *blockCipher {
	bc, err := newBlockCipher(make([]byte, 16), hasAESNI)
	if err != nil {
		t.Fatal(err)
	}
	return bc
}

// TestReviewDomainBoundary: for every radix, Domain is false just below
// the least n with radix^n >= 10^6 and true from it on, and Encrypt
// agrees.
func TestReviewDomainBoundary(t *testing.T) {
	for radix := 2; radix <= MaxRadix; radix++ {
		n := minLen(radix)
		if domainOK(uint32(radix), n-1) || !domainOK(uint32(radix), n) || !domainOK(uint32(radix), n+1) {
			t.Fatalf("radix %d: domain boundary not at n = %d", radix, n)
		}
	}
	c, _ := New(make([]byte, 16), 100)
	if err := c.Encrypt(make([]uint16, 2), make([]uint16, 2), nil); err != ErrDomain {
		t.Fatalf("100^2: %v", err)
	}
	if err := c.Encrypt(make([]uint16, 3), make([]uint16, 3), nil); err != nil {
		t.Fatalf("100^3: %v", err)
	}
}

// TestReviewReduce: reduce(x, m, (2^64-1)/m) == x % m for every modulus
// the machine-word path can use (radix^k <= 2^32, radix 2..65536), all m
// below 2^17, 2^32 and its neighbours and random m, at x near 0, near
// multiples of m, near the quotient estimate's worst case and near 2^64.
// It also pins the stronger bound: the estimate is at most ONE below the
// true quotient (so the second conditional subtraction never fires).
func TestReviewReduce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ms := map[uint64]bool{1 << 32: true, 1<<32 - 1: true, 1<<32 - 2: true, 1<<31 + 1: true, 3: true, 2: true}
	for r := uint64(2); r <= MaxRadix; r++ {
		for p := r; p <= 1<<32; p *= r {
			ms[p] = true
		}
	}
	for m := uint64(2); m < 1<<17; m++ {
		ms[m] = true
	}
	for range 20000 {
		ms[2+rng.Uint64N(1<<32-1)] = true
	}
	const max = ^uint64(0)
	checked := 0
	for m := range ms {
		inv := max / m
		xs := []uint64{0, 1, m - 1, m, m + 1, 2*m - 1, 2 * m, max, max - 1, max - m, max - max%m, max - max%m - 1,
			inv * m, inv*m - 1, (inv - 1) * m, (inv-1)*m + m - 1, rng.Uint64(), rng.Uint64(), rng.Uint64N(min(m, 1<<32-1) * m)}
		for _, x := range xs {
			got := reduce(x, m, inv)
			if got != x%m {
				t.Fatalf("reduce(%d, %d) = %d, want %d", x, m, got, x%m)
			}
			q, _ := bits.Mul64(x, inv)
			if x/m-q > 1 {
				t.Fatalf("x %d m %d: estimate %d, true quotient %d", x, m, q, x/m)
			}
			checked++
		}
	}
	t.Logf("%d moduli, %d checks", len(ms), checked)
	if checked < 1_000_000 {
		t.Fatalf("only %d checks", checked)
	}
}

// TestReviewKeyScheduleFIPS197: expandKey's last round key for the key
// expansion examples of FIPS 197 appendix A.1, A.2, A.3, and the first
// Nk words are the key itself.
func TestReviewKeyScheduleFIPS197(t *testing.T) {
	if !hasAESNI {
		t.Skip("the key schedule is expanded only for the AES-NI path")
	}
	for _, tc := range []struct{ key, last string }{
		{"2b7e151628aed2a6abf7158809cf4f3c", "d014f9a8c9ee2589e13f0cc8b6630ca6"},
		{"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "e98ba06f448c773c8ecc720401002202"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "fe4890d1e6188d0b046df344706c631e"},
	} {
		key, _ := hex.DecodeString(tc.key)
		var rk [15 * 16]byte
		expandKey(key, rk[:])
		nr := len(key)/4 + 6
		if got := hex.EncodeToString(rk[16*nr : 16*nr+16]); got != tc.last {
			t.Fatalf("key %s: last round key %s, want %s", tc.key, got, tc.last)
		}
		if !bytes.Equal(rk[:len(key)], key) {
			t.Fatalf("key %s: schedule does not start with the key", tc.key)
		}
		for _, x := range rk[16*(nr+1):] {
			if x != 0 {
				t.Fatalf("key %s: schedule wrote past round %d", tc.key, nr)
			}
		}
	}
}

// TestReviewAsmFootprint: the assembly writes exactly the 16 bytes at x
// and reads no round key past round nr (garbage after them changes
// nothing), for all three key sizes, in place on an unaligned buffer.
func TestReviewAsmFootprint(t *testing.T) {
	if !hasAESNI {
		t.Skip("no AES-NI")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, kl := range []int{16, 24, 32} {
		key := make([]byte, kl)
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		ref, _ := aes.NewCipher(key)
		bc, _ := newBlockCipher(key, true)
		var rk [15*16 + 16]byte
		copy(rk[:], bc.rk[:16*(bc.nr+1)])
		for i := 16 * (bc.nr + 1); i < len(rk); i++ {
			rk[i] = byte(rng.Uint32())
		}
		buf := make([]byte, 49)
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		orig := slices.Clone(buf)
		want := make([]byte, 16)
		ref.Encrypt(want, buf[17:33])
		encryptBlocks1(bc.nr, &rk[0], &buf[17])
		if !bytes.Equal(buf[17:33], want) {
			t.Fatalf("key %d: wrong block", kl)
		}
		if !bytes.Equal(buf[:17], orig[:17]) || !bytes.Equal(buf[33:], orig[33:]) {
			t.Fatalf("key %d: wrote outside the block", kl)
		}
	}
}

// TestReviewFallbackAgreesEverywhere: a Cipher whose AES is the crypto/aes
// fallback from the start (shapes cached through it) and one on the fast
// path give the same tokens on every cached shape of radix 10.
func TestReviewFallbackAgreesEverywhere(t *testing.T) {
	key := []byte("fallback-key-16b")
	fast, _ := New(key, 10)
	slow, _ := newCipher(key, 10, false)
	x := make([]uint16, maxShapeN+5)
	for i := range x {
		x[i] = uint16(i * 7 % 10)
	}
	for n := 6; n <= maxShapeN+5; n++ {
		for tl := 0; tl <= maxShapeT+2; tl++ {
			tweak := bytes.Repeat([]byte{'t'}, tl)
			a, b := make([]uint16, n), make([]uint16, n)
			if err := fast.Encrypt(a, x[:n], tweak); err != nil {
				t.Fatal(err)
			}
			if err := slow.Encrypt(b, x[:n], tweak); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a, b) {
				t.Fatalf("n %d t %d: fast %v slow %v", n, tl, a, b)
			}
		}
	}
}

// TestReviewShapeCacheRace: many goroutines make first use of the same
// fresh shapes at once (racing Load/Store on every slot) and all get the
// sequential results; run with -race.
func TestReviewShapeCacheRace(t *testing.T) {
	key := []byte("race-key-0123456")
	seq, _ := New(key, 10)
	x := make([]uint16, maxShapeN)
	for i := range x {
		x[i] = uint16(i * 3 % 10)
	}
	want := map[[2]int][]uint16{}
	for n := 6; n <= maxShapeN; n++ {
		for tl := 0; tl <= maxShapeT; tl++ {
			y := make([]uint16, n)
			if err := seq.Encrypt(y, x[:n], make([]byte, tl)); err != nil {
				t.Fatal(err)
			}
			want[[2]int{n, tl}] = y
		}
	}
	for round := range 3 {
		c, _ := New(key, 10)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var fails []string
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				y := make([]uint16, maxShapeN)
				for k := range (maxShapeN - 5) * (maxShapeT + 1) {
					idx := k
					if g%2 == 1 {
						idx = (maxShapeN-5)*(maxShapeT+1) - 1 - k
					}
					n, tl := 6+idx/(maxShapeT+1), idx%(maxShapeT+1)
					dec := g%3 == 0
					if err := c.crypt(y[:n], x[:n], make([]byte, tl), !dec); err != nil {
						panic(err)
					}
					w := want[[2]int{n, tl}]
					if dec {
						// decrypting x then encrypting the result must give x back
						if err := seq.Encrypt(y[:n], y[:n], make([]byte, tl)); err != nil {
							panic(err)
						}
						w = x[:n]
					}
					if !slices.Equal(y[:n], w) {
						mu.Lock()
						fails = append(fails, fmt.Sprintf("round %d g %d n %d t %d", round, g, n, tl))
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(fails) > 0 {
			t.Fatal(fails)
		}
	}
}

// TestReviewPrintNoKey: formatting a Cipher directly or nested (pointer in
// a struct, slice, map) never prints round-key bytes.
func TestReviewPrintNoKey(t *testing.T) {
	key := []byte("SECRETKEYSECRET!")
	c, _ := New(key, 10)
	needle := hex.EncodeToString(c.aes.rk[16:24])
	type holder struct {
		C  *Cipher
		cs []*Cipher
	}
	for _, v := range []any{c, holder{C: c, cs: []*Cipher{c}}, []*Cipher{c}, map[int]*Cipher{10: c}} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
			s := fmt.Sprintf(f, v)
			if bytes.Contains([]byte(s), []byte("SECRET")) || bytes.Contains([]byte(s), []byte(needle)) ||
				bytes.Contains([]byte(s), []byte(hex.EncodeToString(key)[:8])) {
				t.Fatalf("%s of %T printed key material: %s", f, v, s)
			}
		}
	}
}
