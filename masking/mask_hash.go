package masking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"sync"
)

// hash: a one-way pseudonym, HMAC-SHA256 under keys.HashKey(col.Class)
// of the value's normalised form. Equal values (after normalisation) give
// equal pseudonyms, so equality joins and GROUP BY over the same class
// still work; the key never leaves the process. The key is read once, by
// New, and must be at least 16 bytes.
//
// Normalisation (FORMATS.md), by data class:
//
//	cn_id       trim, half-width, separators dropped, x → X
//	cn_mobile   trim, half-width, separators dropped, +86/0086/86 dropped
//	bank_card   trim, half-width, separators dropped
//	uscc        trim, half-width, separators dropped, upper case
//	email       trim, half-width, lower case
//	other       trim, half-width (bpchar padding is never part of a value)
//	integers    the decimal number; uuid: the canonical lower-case form
//
// Rendering in the column's type (text types are cut to varchar(n) and
// name lengths and padded for bpchar(n)):
//
//	cn_id, 18 chars [1-9]\d{16}[\dX]   17 digits + a valid check character
//	cn_mobile, ^1[3-9]\d{9}$           1, a digit 3-9, 9 digits
//	bank_card, 16-19 digits            as many digits, first non-zero,
//	                                   last a valid Luhn digit
//	uscc, 18 USCC characters           17 USCC characters + valid check char
//	any other all-digit value          as many digits (the first non-zero
//	                                   if the input's is and it has two
//	                                   or more)
//	any other text                     32 lower-case hex digits (128 bits),
//	                                   fewer if the column is shorter
//	int2, int4, int8                   a non-negative integer of the width
//	uuid                               a version 8 (RFC 9562) UUID
//
// Digits and characters come from the HMAC and, past its 32 bytes, from
// SHA-256(HMAC ‖ counter), with rejection sampling (no modulo bias).
// A short varchar(n) truncates the hex and so raises collisions: a
// varchar(4) has only 65536 pseudonyms.
type hashMask struct {
	oid   uint32
	class string
	tc    textCol
	bits  int
	pool  sync.Pool // *hashState
}

// String names the mask and class; the key never prints.
func (m *hashMask) String() string { return "masking.hash{class: " + m.class + "}" }

// GoString is String.
func (m *hashMask) GoString() string { return m.String() }

// Format makes every verb print String.
func (m *hashMask) Format(f fmt.State, _ rune) { fmt.Fprint(f, m.String()) }

// hashState is one goroutine's HMAC and buffers.
type hashState struct {
	mac  hash.Hash
	sum  [sha256.Size]byte
	norm []byte
	// stream
	block [sha256.Size]byte
	ctr   [sha256.Size + 4]byte
	pos   int
	n     uint32
}

const minHashKey = 16

func newHash(opts Options, col Column, keys KeySource) (Masker, error) {
	if keys == nil {
		return nil, &KeyError{Class: col.Class, Err: errNoKeySource}
	}
	key, err := keys.HashKey(col.Class)
	if err != nil {
		return nil, &KeyError{Class: col.Class, Err: err}
	}
	if len(key) < minHashKey {
		return nil, &KeyError{Class: col.Class, Err: errShortKey}
	}
	key = append([]byte(nil), key...)
	m := &hashMask{oid: col.TypeOID, class: col.Class, tc: newTextCol(col)}
	if isIntType(col.TypeOID) {
		m.bits = intBits(col.TypeOID)
	}
	m.pool.New = func() any { return &hashState{mac: hmac.New(sha256.New, key)} }
	return m, nil
}

func (m *hashMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	if format != FormatText && format != FormatBinary {
		return dst[:0], false, badFormat("hash", m.oid, format)
	}
	st := m.pool.Get().(*hashState)
	defer m.pool.Put(st)
	var out []byte
	var problem string
	switch {
	case m.bits != 0:
		out, problem = m.hashInt(st, dst[:0], v, format)
	case m.oid == oidUUID:
		out, problem = m.hashUUID(st, dst[:0], v, format)
	default:
		if problem = textProblem(v); problem != "" {
			break
		}
		c, chars := m.tc.content(v)
		out = m.tc.finish(m.hashText(st, dst[:0], c), 0, chars)
	}
	if problem != "" {
		return dst[:0], false, &ValueError{Mask: "hash", TypeOID: m.oid, Format: format, Reason: problem}
	}
	return out, false, nil
}

// mac sets st.sum to the HMAC of msg and starts the stream.
func (st *hashState) hmacOf(msg []byte) {
	st.mac.Reset()
	st.mac.Write(msg)
	st.mac.Sum(st.sum[:0])
	st.block = st.sum
	st.pos, st.n = 0, 0
}

// byte returns the next pseudo-random byte.
func (st *hashState) next() byte {
	if st.pos == len(st.block) {
		st.n++
		copy(st.ctr[:], st.sum[:])
		binary.BigEndian.PutUint32(st.ctr[sha256.Size:], st.n)
		st.block = sha256.Sum256(st.ctr[:])
		st.pos = 0
	}
	b := st.block[st.pos]
	st.pos++
	return b
}

// digit returns a uniform digit from lo to 9.
func (st *hashState) digit(lo byte) byte {
	span := 10 - lo
	limit := 256 - 256%int(span)
	for {
		b := st.next()
		if int(b) < limit {
			return '0' + lo + b%span
		}
	}
}

// char returns a uniform character of alphabet (at most 256 long).
func (st *hashState) char(alphabet string) byte {
	limit := 256 - 256%len(alphabet)
	for {
		b := st.next()
		if int(b) < limit {
			return alphabet[int(b)%len(alphabet)]
		}
	}
}

func (m *hashMask) hashText(st *hashState, out, c []byte) []byte {
	st.norm = m.normalize(st.norm[:0], c)
	n := st.norm
	st.hmacOf(n)
	switch {
	case m.class == "cn_id" && len(n) == 18 && cnidShape(n):
		out = append(out, st.digit(1))
		for i := 1; i < 17; i++ {
			out = append(out, st.digit(0))
		}
		check, _ := CNIDCheckChar(out[len(out)-17:])
		return append(out, check)
	case m.class == "cn_mobile" && isMobile(n):
		out = append(out, '1', st.digit(3))
		for i := 2; i < 11; i++ {
			out = append(out, st.digit(0))
		}
		return out
	case m.class == "bank_card" && cardShape(n):
		start := len(out)
		out = append(out, st.digit(1))
		for i := 1; i < len(n)-1; i++ {
			out = append(out, st.digit(0))
		}
		check, _ := LuhnCheckDigit(out[start:])
		return append(out, check)
	case m.class == "uscc" && usccShape(n):
		start := len(out)
		for i := 0; i < 17; i++ {
			out = append(out, st.char(usccAlphabet))
		}
		check, _ := USCCCheckChar(out[start:])
		return append(out, check)
	case allDigits(n):
		lo := byte(0)
		if n[0] != '0' && len(n) > 1 {
			lo = 1
		}
		out = append(out, st.digit(lo))
		for i := 1; i < len(n); i++ {
			out = append(out, st.digit(0))
		}
		return out
	case len(n) == 0:
		return out
	}
	width := 32
	if m.tc.maxChars > 0 {
		width = min(width, m.tc.maxChars)
	}
	var hx [64]byte
	hex.Encode(hx[:], st.sum[:])
	return append(out, hx[:width]...)
}

func isMobile(n []byte) bool {
	_, ok := mobileDigits(n)
	return ok && len(n) == 11
}

// normalize is the class's normal form of a text value.
func (m *hashMask) normalize(dst, c []byte) []byte {
	switch m.class {
	case "cn_id", "uscc":
		return normalize(dst, c, dropSeparators|upperCase)
	case "bank_card":
		return normalize(dst, c, dropSeparators)
	case "cn_mobile":
		start := len(dst)
		dst = normalize(dst, c, dropSeparators)
		if core, ok := mobileDigits(dst[start:]); ok {
			return dst[:start+copy(dst[start:], core)]
		}
		return dst
	case "email":
		start := len(dst)
		dst = normalize(dst, c, 0)
		for i := start; i < len(dst); i++ {
			if b := dst[i]; b >= 'A' && b <= 'Z' {
				dst[i] = b + 'a' - 'A'
			}
		}
		return dst
	}
	return normalize(dst, c, 0)
}

func (m *hashMask) hashInt(st *hashState, out, v []byte, format int16) ([]byte, string) {
	n, ok := getIntAny(v, format, m.bits)
	if !ok {
		return out, "not a valid integer"
	}
	st.norm = strconv.AppendInt(st.norm[:0], n, 10)
	st.hmacOf(st.norm)
	h := int64(binary.BigEndian.Uint64(st.sum[:8]) >> (65 - m.bits)) // non-negative, bits-1 bits
	return putIntAny(out, h, format, m.bits), ""
}

func (m *hashMask) hashUUID(st *hashState, out, v []byte, format int16) ([]byte, string) {
	var u [16]byte
	if format == FormatBinary {
		if len(v) != 16 {
			return out, "not a valid uuid"
		}
		copy(u[:], v)
	} else if !parseUUID(&u, v) {
		return out, "not a valid uuid"
	}
	st.norm = appendUUID(st.norm[:0], &u)
	st.hmacOf(st.norm)
	copy(u[:], st.sum[:16])
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	if format == FormatBinary {
		return append(out, u[:]...), ""
	}
	return appendUUID(out, &u), ""
}

// parseUUID accepts what uuid_in does: 32 hex digits, optionally in
// braces, with a hyphen allowed after any group of four.
func parseUUID(u *[16]byte, v []byte) bool {
	v = trimSpaceASCII(v)
	if len(v) >= 2 && v[0] == '{' && v[len(v)-1] == '}' {
		v = v[1 : len(v)-1]
	}
	n := 0
	for i := 0; i < len(v); {
		if n == 32 {
			return false
		}
		if v[i] == '-' {
			if n == 0 || n%4 != 0 || i+1 == len(v) || v[i+1] == '-' {
				return false
			}
			i++
			continue
		}
		h := unhex(v[i])
		if h < 0 {
			return false
		}
		if n%2 == 0 {
			u[n/2] = byte(h) << 4
		} else {
			u[n/2] |= byte(h)
		}
		n++
		i++
	}
	return n == 32
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// appendUUID appends the canonical form 8-4-4-4-12.
func appendUUID(dst []byte, u *[16]byte) []byte {
	const digits = "0123456789abcdef"
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, digits[b>>4], digits[b&15])
	}
	return dst
}
