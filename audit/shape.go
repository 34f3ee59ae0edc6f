package audit

import "github.com/pgmantle/pgmantle/internal/sqlkey"

// Shape keys let the Normalizer skip pg_query for texts that differ from
// one it has seen only in their constants, as an application's
// statements do (WHERE aid = 12345, then 67890). The key is the query
// analysis's (package sqlkey): the text with every plainly written
// constant replaced by a placeholder, everything else kept byte for byte,
// so texts with equal keys differ only in those constants and pg_query
// normalizes them to the same text. Text outside sqlkey's subset gets no
// key and is normalized in full.

// maxShape bounds the texts whose normalization is cached.
const maxShape = 2048

// shapeKey appends the shape key of sql to buf; ok is false when sql has
// no key.
func shapeKey(sql string, buf []byte) (key []byte, ok bool) {
	if len(sql) > maxShape {
		return buf[:0], false
	}
	return sqlkey.Append(buf[:0], sql)
}
