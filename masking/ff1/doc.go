// Package ff1 implements the FF1 format-preserving block cipher mode of
// NIST SP 800-38G (Rev. 1) over AES: a keyed permutation of the numeral
// strings of a given radix and length. pgmantle uses it for reversible
// tokens that keep a value's format (digits stay digits, a length stays a
// length).
//
// A Cipher is built once per key and radix (2 to 65536, so that an alphabet
// of CJK characters fits) and is safe for concurrent use: it holds the
// expanded AES key and, per length and tweak length, constants derived
// from them. Encrypt and Decrypt refuse inputs whose domain,
// radix^length, is below 1,000,000, as SP 800-38G Rev. 1 requires;
// smaller domains can be enumerated by anyone who sees enough tokens.
//
// AES runs in this package's own AES-NI assembly where the CPU has it
// (amd64; crypto/aes elsewhere, and the tests check one against the
// other): called directly, not through cipher.Block, FF1's buffers stay
// on the stack. What each (length, tweak length) shape implies — the
// moduli, their reciprocals, the enciphered header block P — is computed
// once per cipher.
//
// Values of up to 18 decimal digits (any radix and length with
// radix^ceil(length/2) at most 2^32) take a path
// that allocates nothing and uses machine integers; longer ones fall back to
// math/big. Both paths compute the same function; the tests check them
// against each other and against NIST's nine sample vectors.
//
// Where it stops: the package knows numerals, not characters. Alphabet maps
// a string's characters to numerals and back; which characters of a value
// to encrypt, and what to do with the rest, is the caller's business
// (package masking).
package ff1
