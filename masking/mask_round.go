package masking

// round: the nearest multiple of the option to (required), halves away
// from zero as PostgreSQL's round(numeric) does: salary 12345.67 with
// to: 1000 → 12000. For int2/int4/int8, to must be a whole number within
// the type. numeric keeps numeric_send's exact decimal arithmetic; the
// output's scale is the column's (numeric(10,2) → 12000.00), or for an
// unconstrained numeric the decimals of to (to: 0.05 → 2). float4/float8
// are rounded in binary floating point. NaN and ±Infinity stay. A result
// that would not fit the type becomes the multiple towards zero.
func newRound(opts Options, col Column) (Masker, error) {
	return newNumberMask("round", "to", halfAway, opts.To, col)
}
