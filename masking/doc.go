// Package masking holds pgmantle's masks: pure, typed transforms of
// PostgreSQL result values.
//
// A mask is built once per protected column with New, from its name, the
// options the policy gives it and what the catalog says about the column
// (type OID, typmod, data class). New refuses a mask that cannot produce a
// valid value of the column's type (*TypeError) and bad options
// (*OptionError), so a policy that would break a client fails at load, not
// on a query. The resulting Masker turns one non-NULL value, in the text or
// binary format PostgreSQL sent it in, into a value of the same type in the
// same format. It never passes an input through when it cannot make sense
// of it: a value that does not look like what the mask expects is masked
// completely, and a value that cannot be decoded at all is an error
// (*ValueError), which the caller must treat as fatal for the row (fail
// closed).
//
// Neither errors nor any other output of this package carry input values:
// error messages name the mask, option and type only.
//
// # Masks
//
//	null        any type      SQL NULL
//	redact      most types    a constant of the column's type
//	partial     text types    keep the first/last N characters
//	email       text types    z***@163.com
//	cn_name     text types    张*, 欧阳**, 买**·**
//	cn_id       text types    310105********8032 (resident ID, GB 11643)
//	cn_mobile   text types    138****5678
//	bank_card   text types    622202******7894
//	uscc        text types    91350100*********3 (GB 32100)
//	address     text types    上海市浦东新区****
//	generalize  date, timestamp, timestamptz   truncate to year/month/day
//	round       integers, floats, numeric      nearest multiple of "to"
//	band        integers, floats, numeric, text   lower bound / "lo-hi"
//	hash        text types, integers, uuid     HMAC-SHA256 pseudonym
//
// Names and Accepts list them; each mask's file documents its options,
// defaults and edge cases. The check-digit functions in checkdigits.go
// (resident ID MOD 11-2, Luhn, USCC mod 31) are exported for the tokenize
// and discover stages.
//
// # Formats
//
// Text-type values (text, varchar, bpchar, name) are UTF-8 in both
// formats; the proxy transcodes other client encodings before masking.
// Other types follow PostgreSQL's send/recv functions
// (src/backend/utils/adt): big-endian integers, IEEE floats, dates as
// int32 days and timestamps as int64 microseconds since 2000-01-01, numeric
// as numeric_send writes it. Text forms are those PostgreSQL prints with
// DateStyle ISO.
//
// # Where it stops
//
// The package imports nothing of the proxy. It does not decide which mask
// applies (package policy), does not see NULLs (the caller passes them
// through), does not transcode, and does not tokenize (FF1).
package masking
