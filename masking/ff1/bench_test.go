package ff1

import "testing"

// BenchmarkEncrypt17Digits: the 17 digits of a resident ID number before
// its check character (the cn_id token).
func BenchmarkEncrypt17Digits(b *testing.B) {
	c, _ := New(make([]byte, 32), 10)
	x := []uint16{3, 1, 0, 1, 0, 5, 1, 9, 9, 0, 0, 3, 0, 7, 8, 0, 3}
	tweak := []byte("pgmantle:cn_id")
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Encrypt(x, x, tweak); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncrypt9Digits: the middle nine digits of a 16-digit card.
func BenchmarkEncrypt9Digits(b *testing.B) {
	c, _ := New(make([]byte, 32), 10)
	x := []uint16{1, 2, 3, 4, 5, 6, 7, 8, 9}
	tweak := []byte("pgmantle:bank_card")
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Encrypt(x, x, tweak); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncryptLarge: a 40-character radix-36 string (math/big path).
func BenchmarkEncryptLarge(b *testing.B) {
	c, _ := New(make([]byte, 32), 36)
	x := make([]uint16, 40)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Encrypt(x, x, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncrypt14DigitsShortTweak: what a resident ID token costs in
// FF1 (its 14-digit integer, the one-byte tweak: one AES block a round).
func BenchmarkEncrypt14DigitsShortTweak(b *testing.B) {
	c, _ := New(make([]byte, 32), 10)
	x := []uint16{3, 1, 0, 1, 0, 5, 1, 9, 9, 0, 0, 3, 0, 7}
	tweak := []byte{'I'}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Encrypt(x, x, tweak); err != nil {
			b.Fatal(err)
		}
	}
}
