package masking

import "github.com/pgmantle/pgmantle/masking/ff1"

// AheadMasker is an optional interface of a Masker: MaskAhead masks
// several values at once (NULLs as nil) faster than a Mask call each,
// with the results Mask would give; MasksAhead reports whether it does
// anything for this masker. It appends the results to dst, in order,
// and sets ends[i] (len(ends) >= len(vals)) to the end of vals[i]'s result in
// the returned slice, or to -1 where the caller must call Mask itself
// (NULL, a value Mask refuses, a shape MaskAhead leaves to Mask); a
// result starts where the previous one given ends (or at len(dst)). It
// keeps no value and considers at most MaxAhead values.
type AheadMasker interface {
	MasksAhead() bool
	MaskAhead(dst []byte, vals [][]byte, format int16, ends []int) []byte
}

// MaxAhead is the most values one MaskAhead call considers.
const MaxAhead = 64

// MasksAhead implements AheadMasker: the classes whose tokens are FF1
// over the decimal digits of an ASCII value (resident ID numbers, mobile
// numbers, bank cards).
func (m *tokenMask) MasksAhead() bool {
	switch m.t.class {
	case "cn_id", "cn_mobile", "bank_card":
		return m.t.ciphers[10] != nil
	}
	return false
}

// maxAheadLen is the longest value MaskAhead takes (a 19-digit card).
const maxAheadLen = 19

// aheadVal is one value of a MaskAhead call.
type aheadVal struct {
	c     []byte // its content (bpchar padding stripped); nil: left to Mask
	chars int
	ref   cacheRef
	done  bool // tok[:len(c)] is its token
	tok   [maxAheadLen]byte
}

// laneGroup is the values of one lockstep group: FF1 over the same
// number of digits.
type laneGroup struct {
	lanes [ff1.Lanes]lane
	k     int
}

// lane is one value of a lockstep group.
type lane struct {
	v     *aheadVal
	x     uint64 // the digits enciphered, or the last ciphertext of a walk
	off   int    // the check character's offset from the valid one, kept
	walks int
}

// MaskAhead implements AheadMasker for values of ASCII digits (others
// are left to Mask):
//  1. every value's cache set is located and its tags requested, then
//     the slot each will read or write, so that the memory of a batch
//     arrives together rather than one value after another;
//  2. the cached tokens are read;
//  3. the digits the class's token enciphers (see laneOf) are
//     enciphered eight values at a time (FF1 in lockstep, see
//     ff1.Cipher.EncryptLanes; an ID token outside the IDs' domain is
//     enciphered again with the next group, as Token's cycle walk does),
//     the rest one by one, and cached;
//  4. the results are written in order, fitted to the column.
//
// The tokens are those Mask gives (Token with the encrypt direction:
// asciiID and idToken, card, mobile).
func (m *tokenMask) MaskAhead(dst []byte, vals [][]byte, format int16, ends []int) []byte {
	vals = vals[:min(len(vals), MaxAhead)]
	for i := range vals {
		ends[i] = -1
	}
	if !m.MasksAhead() || (format != FormatText && format != FormatBinary) {
		return dst
	}
	t := m.t
	t.cache.init()
	var avs [MaxAhead]aheadVal
	for i, v := range vals {
		if len(v) < 11 {
			continue
		}
		c, chars := m.tc.content(v)
		if len(c) < 11 || len(c) > maxAheadLen {
			continue
		}
		avs[i] = aheadVal{c: c, chars: chars, ref: t.cache.locate(c)}
		t.cache.requestTags(avs[i].ref)
	}
	for i := range vals {
		if avs[i].c != nil {
			t.cache.request(avs[i].ref)
		}
	}
	var groups [maxLaneDigits + 1]laneGroup
	for i := range vals {
		av := &avs[i]
		if av.c == nil {
			continue
		}
		if tok, ok := t.cache.probe(av.tok[:0], av.c, av.ref); ok {
			av.done = len(tok) == len(av.c)
			continue
		}
		x, digits, off, path := t.laneOf(av.c)
		switch path {
		case toMask:
			av.c = nil // Mask tokenizes it (or reports its error)
			continue
		case oneByOne:
			t.fillOne(av)
			continue
		}
		// (groups is indexed, not pointed into, so that it and the
		// values its lanes point to stay on the stack.)
		groups[digits].lanes[groups[digits].k] = lane{v: av, x: x, off: off}
		if groups[digits].k++; groups[digits].k == ff1.Lanes {
			// fillLanes first: in walkOn(lanes, t.fillLanes(...)) the
			// order of the read of lanes and the call is unspecified.
			walking := t.fillLanes(&groups[digits].lanes, digits)
			groups[digits].lanes, groups[digits].k = walkOn(groups[digits].lanes, walking)
		}
	}
	// The last groups, and the walks still going, padded with lanes that
	// stand for no value (a group of eight costs less than two values
	// one by one, more than one: a lone value, as when rows trickle in
	// one at a time, is done one by one).
	for d := range groups {
		for groups[d].k > 0 {
			if groups[d].k == 1 {
				t.fillOne(groups[d].lanes[0].v)
				break
			}
			for j := groups[d].k; j < len(groups[d].lanes); j++ {
				groups[d].lanes[j] = lane{}
			}
			walking := t.fillLanes(&groups[d].lanes, d)
			groups[d].lanes, groups[d].k = walkOn(groups[d].lanes, walking)
		}
	}
	for i := range vals {
		if av := &avs[i]; av.done {
			dst = m.tc.finish(append(dst, av.tok[:len(av.c)]...), len(dst), av.chars)
			ends[i] = len(dst)
		}
	}
	return dst
}

// walkOn returns the lanes in walking (a set fillLanes returned) moved
// to the front, and how many. (It takes and returns the array by value,
// so that the caller's lanes and the values they point to stay on its
// stack.)
func walkOn(lanes [ff1.Lanes]lane, walking uint) ([ff1.Lanes]lane, int) {
	k := 0
	for j, l := range lanes {
		if walking&(1<<j) != 0 {
			lanes[k] = l
			k++
		}
	}
	return lanes, k
}

// fillLanes enciphers a full group of lanes of digits digits in lockstep
// and caches their tokens. It returns the set of lanes (ID tokens outside
// the IDs' domain, about one in seventy) it has given their ciphertext
// to be enciphered again with the next group. Only scalars are written
// through lanes, so that the caller's arrays stay on its stack.
func (t *Tokenizer) fillLanes(lanes *[ff1.Lanes]lane, digits int) (walking uint) {
	var xs [ff1.Lanes]uint64
	for i, l := range lanes {
		xs[i] = l.x
	}
	if !t.ciphers[10].EncryptLanes(&xs, digits, t.laneTweak()) {
		for _, l := range lanes {
			if l.v != nil {
				t.fillOne(l.v)
			}
		}
		return 0
	}
	for i := range lanes {
		l := &lanes[i]
		if l.v == nil {
			continue // padding
		}
		if t.class == "cn_id" && xs[i] >= idDomain {
			if l.walks++; l.walks >= maxWalk {
				t.fillOne(l.v) // Token's error, reported by Mask
				continue
			}
			l.x = xs[i]
			walking |= 1 << i
			continue
		}
		t.laneToken(l.v, xs[i], l.off)
		l.v.done = true
		t.cache.fill(l.v.ref, l.v.c, l.v.tok[:len(l.v.c)])
	}
	return walking
}

// fillOne tokenizes and caches one value; a value it cannot tokenize, or
// whose token is not of its length, is left to Mask, which reports it.
func (t *Tokenizer) fillOne(av *aheadVal) {
	tok, err := t.run(av.tok[:0], av.c, true)
	if err != nil || len(tok) != len(av.c) {
		return
	}
	av.done = true
	t.cache.fill(av.ref, av.c, tok)
}
