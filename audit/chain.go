package audit

import (
	"crypto/sha256"
	"encoding/hex"
)

// genesis is the Prev of the very first record of a log.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// link returns the Prev of the record that follows line (a record's JSON
// without its newline): the hex SHA-256 of its bytes.
func link(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}
