package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// genesis is the Prev of the very first record of a log.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// link returns the prev of the record that follows line (a record's JSON
// without its newline): the hex SHA-256 of its bytes.
func link(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// hexDigest is a prev as the writer keeps it.
type hexDigest [64]byte

// linkTo is link into a reused array.
func linkTo(d *hexDigest, line []byte) {
	sum := sha256.Sum256(line)
	hex.Encode(d[:], sum[:])
}

// ChainHMAC names the keyed chain in open records.
const ChainHMAC = "hmac-sha256"

// chainer computes prev values: SHA-256 of the previous line, or, with a
// key, HMAC-SHA256 — which an attacker who edits the log cannot
// recompute without the key.
type chainer struct {
	mac hash.Hash // nil: plain SHA-256
	sum []byte
}

func newChainer(key []byte) *chainer {
	if key == nil {
		return &chainer{}
	}
	return &chainer{mac: hmac.New(sha256.New, key)}
}

func (c *chainer) linkTo(d *hexDigest, line []byte) {
	if c.mac == nil {
		linkTo(d, line)
		return
	}
	c.mac.Reset()
	c.mac.Write(line)
	c.sum = c.mac.Sum(c.sum[:0])
	hex.Encode(d[:], c.sum)
}

func (c *chainer) link(line []byte) string {
	var d hexDigest
	c.linkTo(&d, line)
	return string(d[:])
}
