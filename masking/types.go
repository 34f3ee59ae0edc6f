package masking

import "strconv"

// PostgreSQL type OIDs (src/include/catalog/pg_type.dat).
const (
	oidBool        uint32 = 16
	oidBytea       uint32 = 17
	oidName        uint32 = 19
	oidInt8        uint32 = 20
	oidInt2        uint32 = 21
	oidInt4        uint32 = 23
	oidText        uint32 = 25
	oidJSON        uint32 = 114
	oidFloat4      uint32 = 700
	oidFloat8      uint32 = 701
	oidBpchar      uint32 = 1042
	oidVarchar     uint32 = 1043
	oidDate        uint32 = 1082
	oidTime        uint32 = 1083
	oidTimestamp   uint32 = 1114
	oidTimestamptz uint32 = 1184
	oidNumeric     uint32 = 1700
	oidUUID        uint32 = 2950
	oidJSONB       uint32 = 3802
)

var typeNames = map[uint32]string{
	oidBool: "bool", oidBytea: "bytea", oidName: "name", oidInt8: "int8",
	oidInt2: "int2", oidInt4: "int4", oidText: "text", oidJSON: "json",
	oidFloat4: "float4", oidFloat8: "float8", oidBpchar: "bpchar",
	oidVarchar: "varchar", oidDate: "date", oidTime: "time",
	oidTimestamp: "timestamp", oidTimestamptz: "timestamptz",
	oidNumeric: "numeric", oidUUID: "uuid", oidJSONB: "jsonb",
}

// typeName is the PostgreSQL name of a type this package knows, else
// "type OID n".
func typeName(oid uint32) string {
	if n, ok := typeNames[oid]; ok {
		return n
	}
	return "type OID " + strconv.FormatUint(uint64(oid), 10)
}

// Type groups, used by the registry.
var (
	textTypes   = []uint32{oidText, oidVarchar, oidBpchar, oidName}
	intTypes    = []uint32{oidInt2, oidInt4, oidInt8}
	floatTypes  = []uint32{oidFloat4, oidFloat8}
	numberTypes = concat(intTypes, floatTypes, []uint32{oidNumeric})
	dateTimes   = []uint32{oidDate, oidTimestamp, oidTimestamptz}
	redactTypes = concat(textTypes, numberTypes, dateTimes, []uint32{oidTime, oidBool, oidUUID, oidBytea, oidJSON, oidJSONB})
	hashTypes   = concat(textTypes, intTypes, []uint32{oidUUID})
	bandTypes   = concat(numberTypes, textTypes)
)

// maxNameBytes is NAMEDATALEN-1, the longest value of type name in bytes.
const maxNameBytes = 63

func isTextType(oid uint32) bool  { return contains(textTypes, oid) }
func isIntType(oid uint32) bool   { return contains(intTypes, oid) }
func isFloatType(oid uint32) bool { return contains(floatTypes, oid) }

func concat(lists ...[]uint32) []uint32 {
	var out []uint32
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func contains(list []uint32, oid uint32) bool {
	for _, o := range list {
		if o == oid {
			return true
		}
	}
	return false
}

// charLimit is n for varchar(n) and bpchar(n) (typmod n+4), else 0.
func charLimit(col Column) int {
	if (col.TypeOID == oidVarchar || col.TypeOID == oidBpchar) && col.TypeMod >= 4 {
		return int(col.TypeMod - 4)
	}
	return 0
}

// numericTypmod decodes numeric(p,s) from a typmod (PostgreSQL 15+: the
// scale is an 11-bit signed field and may be negative). ok is false for
// an unconstrained numeric.
func numericTypmod(typmod int32) (precision, scale int, ok bool) {
	if typmod < 4 {
		return 0, 0, false
	}
	t := typmod - 4
	precision = int((t >> 16) & 0xffff)
	scale = int(((t & 0x7ff) ^ 1024) - 1024)
	return precision, scale, true
}

// intBits is the width of an integer type.
func intBits(oid uint32) int {
	switch oid {
	case oidInt2:
		return 16
	case oidInt4:
		return 32
	}
	return 64
}
