package resultmask

import (
	"errors"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/transform"

	"github.com/pgmantle/pgmantle/masking"
	"github.com/pgmantle/pgmantle/parser"
)

// clientEncodings maps PostgreSQL client_encoding names to their codecs.
// UTF8 and SQL_ASCII need none. Legacy Chinese accounting software often
// runs with GBK or GB18030.
var clientEncodings = map[string]encoding.Encoding{
	"GBK":     simplifiedchinese.GBK,
	"GB18030": simplifiedchinese.GB18030,
	"EUC_CN":  simplifiedchinese.GBK, // GB2312 is a subset of GBK
	"BIG5":    traditionalchinese.Big5,
	"LATIN1":  charmap.ISO8859_1,
	"WIN1252": charmap.Windows1252,
}

// codecFor returns the codec for a client encoding: nil for UTF-8 (and
// SQL_ASCII, which PostgreSQL does not convert), an error for an encoding
// pgmantle cannot transcode (the result is then refused).
func codecFor(name string) (encoding.Encoding, error) {
	n := encodingKey(name)
	switch n {
	case "", "UTF8", "UNICODE", "SQL_ASCII":
		return nil, nil
	}
	if e, ok := clientEncodings[n]; ok {
		return e, nil
	}
	return nil, errUnsupportedEncoding
}

var errUnsupportedEncoding = errors.New("unsupported client_encoding")

// encodingKey is an encoding name as PostgreSQL compares them: upper
// case, without dashes ("utf-8" is UTF8).
func encodingKey(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", ""))
}

// holdsEveryCharacter reports whether every character converts to a
// client encoding: UTF-8, GB18030 (which maps all of Unicode), and
// SQL_ASCII (not converted). PostgreSQL converts a masked column's
// values to the client's encoding before pgmantle masks them, and fails
// the statement on a character the encoding lacks (22P05): in BIG5,
// whether 王建国 converts tells that its hidden part holds a simplified
// character (red-team round 20). Masked text is therefore not served in
// other encodings.
func holdsEveryCharacter(name string) bool {
	switch encodingKey(name) {
	case "", "UTF8", "UNICODE", "SQL_ASCII", "GB18030":
		return true
	}
	return false
}

// lossyOutputs refuses, in a session whose client encoding does not hold
// every character, a statement with a masked, tokenized or hashed result
// column whose values PostgreSQL converts as text (the result layer
// refuses such a column too, when the statement is already running; here
// the session goes on). Columns whose text is ASCII by type (numbers,
// dates, times) convert whatever their value.
func lossyOutputs(b *binding, plan *parser.Plan, enc string) error {
	for _, d := range plan.Statements {
		for _, o := range d.Outputs {
			if o.Class == "" {
				continue
			}
			if col, ok := b.snap.Column(o.Source.Column); ok && asciiOutputType(col.TypeOID) {
				continue
			}
			return refuseStatement(lossyEncodingReason, enc)
		}
	}
	return nil
}

// asciiOutputType reports whether a type's text form is ASCII whatever
// its value (and the session's settings).
func asciiOutputType(oid uint32) bool {
	switch oid {
	case 16, 20, 21, 23, 26, 700, 701, 1700, // bool, integers, oid, floats, numeric
		1082, 1083, 1114, 1184, 1186, 1266, // date, time, timestamp(tz), interval, timetz
		2950, 869, 650, 829, 17: // uuid, inet, cidr, macaddr, bytea
		return true
	}
	return false
}

// lossyEncodingReason is the refusal of masked text in a client encoding
// that does not hold every character.
const lossyEncodingReason = "client_encoding %s cannot hold every character, so whether a masked value converts to it would tell about its hidden characters; read masked text with client_encoding UTF8 or GB18030"

// DecodeClientText converts text in a client encoding to UTF-8, or fails
// for an encoding pgmantle cannot decode or bytes not valid in it.
func DecodeClientText(encoding, text string) (string, error) {
	codec, err := codecFor(encoding)
	if err != nil || codec == nil {
		return text, err
	}
	return codec.NewDecoder().String(text)
}

// isTextType reports whether values of the type travel as client-encoded
// text in both formats.
func isTextType(oid uint32) bool {
	switch oid {
	case 25, 1043, 1042, 19: // text, varchar, bpchar, name
		return true
	}
	return false
}

// transcoded wraps a masker of a text column for a non-UTF-8 client: the
// value is decoded to UTF-8, masked, and encoded back. Buffers are reused;
// like every Masker it runs on one goroutine at a time per session.
type transcoded struct {
	inner   masking.Masker
	dec     *encoding.Decoder
	encoder *encoding.Encoder
	utf8    []byte
	masked  []byte
}

func newTranscoded(inner masking.Masker, e encoding.Encoding) *transcoded {
	return &transcoded{inner: inner, dec: e.NewDecoder(), encoder: e.NewEncoder()}
}

// Mask implements masking.Masker.
func (t *transcoded) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	var err error
	if t.utf8, err = transcode(t.dec, t.utf8[:0], v); err != nil {
		return nil, false, errTranscode
	}
	out, null, err := t.inner.Mask(t.masked[:0], t.utf8, format)
	if err != nil || null {
		return nil, null, err
	}
	t.masked = out[:0]
	if dst, err = transcode(t.encoder, dst[:0], out); err != nil {
		return nil, false, errTranscode
	}
	return dst, false, nil
}

var errTranscode = errors.New("a value could not be transcoded")

// transcode runs tr over src, appending to dst, growing dst as needed.
func transcode(tr transform.Transformer, dst, src []byte) ([]byte, error) {
	tr.Reset()
	for {
		n, _, err := tr.Transform(dst[len(dst):cap(dst)], src, true)
		if err == nil {
			return dst[:len(dst)+n], nil
		}
		if !errors.Is(err, transform.ErrShortDst) {
			return dst, err
		}
		// Grow and start over: Transform is not resumable after ErrShortDst
		// without tracking nSrc, so keep it simple and rare.
		dst = append(dst[:cap(dst)], make([]byte, len(src)*2+16)...)[:len(dst)]
		tr.Reset()
	}
}
