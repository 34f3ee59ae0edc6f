package masking

// Result and parameter format codes of the PostgreSQL protocol.
const (
	FormatText   int16 = 0
	FormatBinary int16 = 1
)

// Column is what a mask needs to know about the column it protects.
type Column struct {
	TypeOID uint32 // pg_type OID of the column (or of the view/partition column's base)
	TypeMod int32  // atttypmod (-1 if none); e.g. varchar(n)/bpchar(n) length n+4, numeric precision/scale
	Class   string // the data class (cn_id, salary, ...), used e.g. to select the hash key
}

// Options are a mask's settings as the YAML policy writes them, e.g.
// {mask: partial, keep_first: 3, keep_last: 4}. Policy decodes the rule
// mapping (minus the "mask" key) into Options with strict yaml.v3
// decoding. A mask given an option it does not take fails in New. The
// zero value of a field means "not set": the mask's default applies.
type Options struct {
	KeepFirst   *int    `yaml:"keep_first"`   // characters shown at the start: partial, email, cn_id, cn_mobile, bank_card, uscc
	KeepLast    *int    `yaml:"keep_last"`    // characters shown at the end: the same masks
	Fill        string  `yaml:"fill"`         // the masking character, one non-digit, non-space character; default "*"
	To          float64 `yaml:"to"`           // round: granularity (e.g. 1000); required
	Width       float64 `yaml:"width"`        // band: band width (e.g. 10000); required
	Unit        string  `yaml:"unit"`         // generalize: "year" (default) | "month" | "day" (timestamps only)
	Level       string  `yaml:"level"`        // address: "province" | "city" | "district" (default)
	KeepSurname *bool   `yaml:"keep_surname"` // cn_name: default true; false masks every character
	Value       string  `yaml:"value"`        // redact: replacement for text types (default "***")
}

// Masker masks the non-NULL values of one column. Implementations are
// safe for concurrent use and allocate nothing per value in the steady
// state when the caller reuses dst.
type Masker interface {
	// Mask appends the masked form of v, which is encoded in format
	// (FormatText or FormatBinary, as PostgreSQL sends it for the column
	// type), to dst[:0] and returns it, encoded in the same format. dst
	// must not overlap v; out is valid until dst is reused, and may be nil
	// for an empty value when dst is nil: only null=true means SQL NULL
	// (the "null" mask). An error is a *ValueError (v cannot be decoded);
	// it never contains v, and the caller must not pass v on instead.
	Mask(dst, v []byte, format int16) (out []byte, null bool, err error)
}
