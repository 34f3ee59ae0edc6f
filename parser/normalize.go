package parser

import (
	"unsafe"

	"github.com/pgmantle/pgmantle/internal/sqlkey"
)

// normalizeKey returns sql with every string and numeric literal replaced
// by a placeholder (package sqlkey), so that statements differing only in
// literal values (a simple-protocol client's WHERE id = 42) share one
// analysis; false for text outside sqlkey's subset, which is then
// analysed from its exact text. Analyses that depend on a literal's value
// (ORDER BY 1) are never stored under a normalized key.
func normalizeKey(sql string) (string, bool) {
	k, ok := sqlkey.Append(make([]byte, 0, len(sql)), sql)
	if !ok {
		return "", false
	}
	return unsafe.String(unsafe.SliceData(k), len(k)), true // k is not used again
}
