package ff1

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

type sample struct {
	Sample     int    `json:"sample"`
	Key        string `json:"key"`
	Radix      int    `json:"radix"`
	Tweak      string `json:"tweak"`
	Plaintext  string `json:"plaintext"`
	Ciphertext string `json:"ciphertext"`
}

func loadSamples(t *testing.T) []sample {
	t.Helper()
	raw, err := os.ReadFile("testdata/ff1_nist_samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Samples []sample `json:"samples"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Samples) != 9 {
		t.Fatalf("%d samples, want NIST's 9", len(f.Samples))
	}
	return f.Samples
}

const base36 = "0123456789abcdefghijklmnopqrstuvwxyz"

// TestNISTSamples: all nine NIST FF1 sample vectors, both directions.
func TestNISTSamples(t *testing.T) {
	for _, s := range loadSamples(t) {
		t.Run(fmt.Sprint("sample", s.Sample), func(t *testing.T) {
			key, _ := hex.DecodeString(s.Key)
			tweak, _ := hex.DecodeString(s.Tweak)
			a, err := NewAlphabet(base36[:s.Radix])
			if err != nil {
				t.Fatal(err)
			}
			// AES-NI assembly (where the CPU has it) and crypto/aes
			for _, fast := range []bool{hasAESNI, false} {
				c, err := newCipher(key, s.Radix, fast)
				if err != nil {
					t.Fatal(err)
				}
				got, err := c.EncryptString(a, s.Plaintext, tweak)
				if err != nil || got != s.Ciphertext {
					t.Fatalf("fast=%v: encrypt = %q, %v; want %q", fast, got, err, s.Ciphertext)
				}
				back, err := c.DecryptString(a, s.Ciphertext, tweak)
				if err != nil || back != s.Plaintext {
					t.Fatalf("fast=%v: decrypt = %q, %v; want %q", fast, back, err, s.Plaintext)
				}
			}
		})
	}
}

// TestSmallAndLargePathsAgree: the machine-word path and the math/big path
// are the same function, for every radix and length the small path takes.
func TestSmallAndLargePathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(rng.Uint32())
	}
	radixes := []int{2, 3, 7, 10, 16, 26, 31, 36, 62, 255, 256, 1000, 3755, 65535, 65536}
	checked := 0
	for _, radix := range radixes {
		c, err := New(key, radix)
		if err != nil {
			t.Fatal(err)
		}
		for n := 2; n <= 70; n++ {
			if !c.Domain(n) {
				continue
			}
			u, v := n/2, n-n/2
			_, okU := pow64(uint32(radix), u)
			mv, okV := pow64(uint32(radix), v)
			if !okU || !okV || bitsLen(mv-1) > 32 {
				continue
			}
			for range 20 {
				x := make([]uint16, n)
				for i := range x {
					x[i] = uint16(rng.IntN(radix))
				}
				tweak := make([]byte, rng.IntN(40))
				for i := range tweak {
					tweak[i] = byte(rng.Uint32())
				}
				for _, enc := range []bool{true, false} {
					small := make([]uint16, n)
					large := make([]uint16, n)
					sh := c.newShape(n, len(tweak))
					if !sh.small {
						t.Fatalf("radix %d n %d: shape not on the machine-word path", radix, n)
					}
					c.small(small, x, tweak, enc, &sh)
					c.large(large, x, tweak, enc, u, v)
					if !slices.Equal(small, large) {
						t.Fatalf("radix %d n %d enc %v: small %v large %v", radix, n, enc, small, large)
					}
				}
				checked++
			}
		}
	}
	if checked < 500 {
		t.Fatalf("only %d comparisons ran", checked)
	}
}

func bitsLen(x uint64) int {
	n := 0
	for x != 0 {
		n++
		x >>= 1
	}
	return n
}

// TestRoundTrip: decrypt inverts encrypt for radixes up to 2^16 and long
// strings, and encryption changes the value and depends on the tweak.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, radix := range []int{2, 10, 36, 3755, 65536} {
		for _, keyLen := range []int{16, 24, 32} {
			key := make([]byte, keyLen)
			for i := range key {
				key[i] = byte(rng.Uint32())
			}
			c, err := New(key, radix)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{2, 3, 6, 10, 17, 18, 19, 30, 64, 200} {
				if !c.Domain(n) {
					continue
				}
				x := make([]uint16, n)
				for i := range x {
					x[i] = uint16(rng.IntN(radix))
				}
				y := make([]uint16, n)
				if err := c.Encrypt(y, x, []byte("t1")); err != nil {
					t.Fatal(err)
				}
				y2 := make([]uint16, n)
				if err := c.Encrypt(y2, x, []byte("t2")); err != nil {
					t.Fatal(err)
				}
				if slices.Equal(y, x) && slices.Equal(y2, x) {
					t.Fatalf("radix %d n %d: encryption is the identity", radix, n)
				}
				if slices.Equal(y, y2) && n > 4 {
					t.Fatalf("radix %d n %d: tweak ignored", radix, n)
				}
				for _, yy := range y {
					if int(yy) >= radix {
						t.Fatalf("numeral %d out of radix %d", yy, radix)
					}
				}
				z := slices.Clone(y)
				if err := c.Decrypt(z, z, []byte("t1")); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(z, x) {
					t.Fatalf("radix %d n %d key %d: round trip %v -> %v -> %v", radix, n, keyLen, x, y, z)
				}
			}
		}
	}
}

// TestPermutation: on a domain of exactly 10^6 every value has a distinct
// image (FF1 is a permutation), checked on a sample.
func TestPermutation(t *testing.T) {
	c, _ := New(make([]byte, 16), 10)
	seen := make(map[[6]uint16]bool)
	for i := range 20000 {
		x := make([]uint16, 6)
		v := i * 37
		for j := 5; j >= 0; j-- {
			x[j] = uint16(v % 10)
			v /= 10
		}
		if err := c.Encrypt(x, x, nil); err != nil {
			t.Fatal(err)
		}
		k := [6]uint16(x)
		if seen[k] {
			t.Fatalf("collision at input %d", i)
		}
		seen[k] = true
	}
}

// TestRefusals: small domains, bad numerals, bad keys and radixes.
func TestRefusals(t *testing.T) {
	c, _ := New(make([]byte, 16), 10)
	x := make([]uint16, 5) // 10^5 < 10^6
	if err := c.Encrypt(x, x, nil); err != ErrDomain {
		t.Fatalf("10^5 domain: %v, want ErrDomain", err)
	}
	if c.Domain(5) || !c.Domain(6) {
		t.Fatal("Domain boundary wrong for radix 10")
	}
	c2, _ := New(make([]byte, 16), 1000)
	if c2.Domain(1) || !c2.Domain(2) {
		t.Fatal("Domain boundary wrong for radix 1000")
	}
	x = []uint16{1, 2, 3, 4, 5, 10}
	if err := c.Encrypt(x, x, nil); err != ErrNumeral {
		t.Fatalf("numeral 10 in radix 10: %v", err)
	}
	if err := c.Encrypt(make([]uint16, 6), make([]uint16, 7), nil); err != ErrLength {
		t.Fatalf("length mismatch: %v", err)
	}
	if _, err := New(make([]byte, 15), 10); err == nil {
		t.Fatal("15-byte key accepted")
	}
	for _, r := range []int{0, 1, MaxRadix + 1} {
		if _, err := New(make([]byte, 16), r); err == nil {
			t.Fatalf("radix %d accepted", r)
		}
	}
	if _, err := NewAlphabet("a"); err == nil {
		t.Fatal("one-character alphabet accepted")
	}
	if _, err := NewAlphabet("abca"); err == nil {
		t.Fatal("repeated character accepted")
	}
	a, _ := NewAlphabet("0123456789")
	if _, err := c.EncryptString(a, "12345a78", nil); err != ErrNotInAlphabet {
		t.Fatalf("character outside alphabet: %v", err)
	}
}

// TestCJKAlphabet: a radix in the thousands over Chinese characters.
func TestCJKAlphabet(t *testing.T) {
	var sb strings.Builder
	for r := rune(0x4E00); r < 0x4E00+3755; r++ {
		sb.WriteRune(r)
	}
	a, err := NewAlphabet(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := New(make([]byte, 32), a.Radix())
	in := "丁七万丈三上下"
	out, err := c.EncryptString(a, in, []byte("person_name"))
	if err != nil {
		t.Fatal(err)
	}
	if out == in || len([]rune(out)) != len([]rune(in)) {
		t.Fatalf("token %q for %q", out, in)
	}
	back, err := c.DecryptString(a, out, []byte("person_name"))
	if err != nil || back != in {
		t.Fatalf("round trip %q -> %q -> %q (%v)", in, out, back, err)
	}
}

// TestConcurrent: one Cipher used by many goroutines gives the same
// results as used alone (run under -race).
func TestConcurrent(t *testing.T) {
	c, _ := New([]byte("0123456789abcdef"), 10)
	want := make([][]uint16, 64)
	inputs := make([][]uint16, 64)
	for i := range inputs {
		x := make([]uint16, 17)
		for j := range x {
			x[j] = uint16((i*7 + j*3) % 10)
		}
		inputs[i] = x
		want[i] = make([]uint16, 17)
		if err := c.Encrypt(want[i], x, []byte("cn_id")); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]uint16, 17)
			for k := range 500 {
				i := (g + k) % len(inputs)
				if err := c.Encrypt(out, inputs[i], []byte("cn_id")); err != nil || !slices.Equal(out, want[i]) {
					errs <- fmt.Sprintf("goroutine %d input %d: %v %v", g, i, out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestNoKeyInOutput: printing a Cipher never shows key material.
func TestNoKeyInOutput(t *testing.T) {
	key := []byte("SECRETKEYSECRET!")
	c, _ := New(key, 10)
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		s := fmt.Sprintf(f, c)
		if strings.Contains(s, "SECRET") || strings.Contains(s, hex.EncodeToString(key)[:8]) {
			t.Fatalf("%s printed key material: %s", f, s)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), uint16(10), []byte("31010519900307803"), []byte("t"))
	f.Add([]byte("0123456789abcdef"), uint16(36), []byte("abcdefghijklmnopqrs"), []byte{})
	f.Fuzz(func(t *testing.T, key []byte, radix uint16, digits []byte, tweak []byte) {
		if len(key) < 16 {
			return
		}
		r := int(radix)
		if r < 2 {
			r = 2
		}
		c, err := New(key[:16], r)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]uint16, len(digits))
		for i, d := range digits {
			x[i] = uint16(int(d) % r)
		}
		if len(x) > 300 {
			x = x[:300]
		}
		y := make([]uint16, len(x))
		if err := c.Encrypt(y, x, tweak); err != nil {
			if c.Domain(len(x)) {
				t.Fatalf("valid domain refused: %v", err)
			}
			return
		}
		z := make([]uint16, len(x))
		if err := c.Decrypt(z, y, tweak); err != nil || !slices.Equal(z, x) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}
