package audit

import (
	"crypto/sha256"
	"encoding/hex"
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
