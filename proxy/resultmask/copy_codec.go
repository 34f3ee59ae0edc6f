package resultmask

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/pgmantle/pgmantle/proxy"
)

var _ proxy.RowRewriter = (*copyRowMasker)(nil)

// copyMaskFunc masks one non-NULL value of a COPY column. v is the value
// as PostgreSQL writes it: its text output (in the client encoding) for a
// text or csv COPY, its binary send format for a binary COPY. Like
// masking.Masker.Mask it appends the masked value to dst[:0] and returns
// it; null=true makes the value NULL. dst never overlaps v. The codec
// copies the result before the next call, so out may also point into v or
// into memory the function owns.
type copyMaskFunc func(dst, v []byte) (out []byte, null bool, err error)

// copyColumn is one output column of a COPY TO STDOUT, in output order.
type copyColumn struct {
	// Name is the column's name as PostgreSQL resolves it; needed only to
	// apply FORCE_QUOTE (col, ...).
	Name string
	// Mask is nil for a column relayed unchanged.
	Mask copyMaskFunc
}

// copyError reports why a COPY payload cannot be masked. It never carries
// data from the payload.
type copyError struct {
	Column int    // 0-based output column, or -1
	Reason string // what is wrong with the payload
	Err    error  // the mask's error, if any
}

func (e *copyError) Error() string {
	msg := "COPY data cannot be masked: " + e.Reason
	if e.Column >= 0 {
		msg += fmt.Sprintf(" (column %d)", e.Column+1)
	}
	return msg
}

func (e *copyError) Unwrap() error { return e.Err }

func copyErr(reason string) error { return &copyError{Column: -1, Reason: reason} }

var (
	errCopyShape      = copyErr("a row does not have the expected number of fields")
	errCopyPartial    = copyErr("a CopyData message ends inside a row")
	errCopyCR         = copyErr("a row contains a bare carriage return")
	errCopyEscapedEOL = copyErr("a backslash precedes a line end")
	errCopyEncoding   = copyErr("a character is not valid in the client encoding")
	errCopyNUL        = copyErr("a value contains a NUL byte")
	errCopyEndMarker  = copyErr(`a row is the end-of-data marker \.`)
	errCopyBinHeader  = copyErr("the binary COPY header is missing or not supported")
	errCopyTrailer    = copyErr("data follows the binary COPY trailer")
	errCopyValues     = copyErr("a CopyData message must be passed as one value")
)

// binarySignature starts a binary COPY stream.
const binarySignature = "PGCOPY\n\377\r\n\x00"

// copyRowMasker rewrites the CopyData payloads of one COPY TO STDOUT,
// masking the columns that have a mask. It implements proxy.RowRewriter:
// RewriteRow takes a single value, the payload, and replaces it with the
// rewritten payload (left as is when nothing changed). It keeps state
// across payloads (the header line of text and csv, the binary file header
// and trailer) and is reused from one COPY to the next through reset; its
// buffers grow once and are then reused: no allocation per row in the
// steady state.
//
// A payload may hold any number of whole rows (tuples for binary).
// Anything it does not expect (a partial row, a wrong number of fields, a
// bare carriage return, an invalid multibyte character, data after the
// binary trailer) is an error: the session then ends rather than relay data
// it could not mask.
//
// A value a mask leaves unchanged keeps its original bytes. Masked values
// are written as PostgreSQL writes values (CopyAttributeOutText and
// CopyAttributeOutCSV, including its handling of client encodings whose
// multibyte characters contain ASCII bytes), so a masked COPY reads back
// like the original.
//
// NULL stays NULL. In text format PostgreSQL writes a value equal to the
// NULL string as is, so with a NULL string such as the empty string or
// NULL, a field equal to it may be a value: reset refuses such a NULL
// string when a column is masked (see textNullAmbiguous). In csv such a
// value is quoted, and binary has no ambiguity.
type copyRowMasker struct {
	st     copyStmt
	cols   []copyColumn
	forceQ []bool             // csv: the column is always quoted
	mblen  func(b []byte) int // character length in an encoding that embeds ASCII bytes in multibyte characters; nil otherwise
	header bool               // text/csv: the header line is still to come
	binHdr bool               // binary: the file header is still to come
	binEnd bool               // binary: the trailer was seen

	out  []byte // the rewritten payload
	val  []byte // a de-escaped or unquoted value
	mbuf []byte // dst of the masks

	// The payload being rewritten: in[:done] is already in out (when
	// dirty), or out is not in use yet.
	in    []byte
	done  int
	dirty bool
}

// newCopyRowMasker returns a masker for a COPY described by st whose output
// columns are cols, for a session whose client_encoding is clientEncoding.
func newCopyRowMasker(st copyStmt, cols []copyColumn, clientEncoding string) (*copyRowMasker, error) {
	m := &copyRowMasker{}
	if err := m.reset(st, cols, clientEncoding); err != nil {
		return nil, err
	}
	return m, nil
}

// reset prepares m for another COPY, keeping its buffers. st.Null must be
// in the client encoding (it is ASCII in practice; the caller converts it
// otherwise).
func (m *copyRowMasker) reset(st copyStmt, cols []copyColumn, clientEncoding string) error {
	switch st.Format {
	case 'b':
	case 't', 'c':
		if st.Delimiter == 0 || st.Delimiter >= 0x80 || st.Delimiter == '\n' || st.Delimiter == '\r' ||
			st.Format == 'c' && (st.Quote == 0 || st.Escape == 0 || st.Quote >= 0x80 || st.Escape >= 0x80 || st.Quote == st.Delimiter) ||
			strings.IndexByte(st.Null, st.Delimiter) >= 0 || strings.ContainsAny(st.Null, "\r\n") {
			return copyErr("unsupported COPY options")
		}
	default:
		return copyErr("unsupported COPY format")
	}
	if st.Format == 't' && (len(st.Null)-len(strings.TrimRight(st.Null, `\`)))%2 == 1 {
		return copyErr("a NULL string ending in a backslash cannot be read")
	}
	if st.Columns != nil && len(st.Columns) != len(cols) {
		return copyErr("the column list does not match the output columns")
	}
	mblen, ok := copyMblen(clientEncoding)
	if !ok {
		return copyErr("client_encoding " + clientEncoding + " is not supported for COPY")
	}
	m.st, m.mblen = st, mblen
	m.cols = append(m.cols[:0], cols...)
	m.forceQ = m.forceQ[:0]
	masked := false
	for _, c := range cols {
		m.forceQ = append(m.forceQ, st.Format == 'c' && st.ForceQuoteAll)
		masked = masked || c.Mask != nil
	}
	if masked && st.Format == 't' && textNullAmbiguous(st.Null, st.Delimiter, mblen) {
		// A masked column's field equal to the NULL string could be NULL
		// or a value; relaying it as NULL would let the chosen NULL string
		// probe the column's values.
		return copyErr("in text format a value can be written as this NULL string; masking needs the default NULL or an unambiguous one, or csv")
	}
	if st.Format == 'c' {
	names:
		for _, name := range st.ForceQuote {
			for i, c := range cols {
				if c.Name == name {
					m.forceQ[i] = true
					continue names
				}
			}
			return copyErr("a FORCE_QUOTE column is not an output column")
		}
	}
	m.header = st.Header && st.Format != 'b'
	m.binHdr = st.Format == 'b'
	m.binEnd = false
	m.in, m.done, m.dirty = nil, 0, false
	return nil
}

// RewriteRow implements proxy.RowRewriter for COPY: values holds one
// CopyData payload, which it replaces with the masked payload.
func (m *copyRowMasker) RewriteRow(values [][]byte) error {
	if len(values) != 1 {
		return errCopyValues
	}
	p := values[0]
	if len(p) == 0 {
		return nil
	}
	m.in, m.done, m.dirty = p, 0, false
	var err error
	switch m.st.Format {
	case 't':
		err = m.rewriteRows(p, false)
	case 'c':
		err = m.rewriteRows(p, true)
	default:
		err = m.rewriteBinary(p)
	}
	if err == nil && m.dirty {
		m.out = append(m.out, p[m.done:]...)
		values[0] = m.out
	}
	m.in = nil
	return err
}

// splice starts replacing in[start:] in the output: everything before start
// not yet copied is copied. The caller appends the replacement and sets
// m.done to the end of what it replaced.
func (m *copyRowMasker) splice(start int) {
	if !m.dirty {
		m.out = m.out[:0]
		m.dirty = true
	}
	m.out = append(m.out, m.in[m.done:start]...)
}

// apply runs column c's mask on v. changed is false when the value is
// unchanged (its original bytes are then kept).
func (m *copyRowMasker) apply(c int, v []byte) (out []byte, null, changed bool, err error) {
	out, null, err = m.cols[c].Mask(m.mbuf[:0], v)
	if err != nil {
		return nil, false, false, &copyError{Column: c, Reason: "a value could not be masked", Err: err}
	}
	// The mask's result is copied into m.out before the next call, so it
	// may live anywhere; m.mbuf only keeps enough capacity for the next
	// one rather than adopting memory that may not be ours.
	if len(out) > cap(m.mbuf) {
		m.mbuf = make([]byte, 0, 2*len(out))
	}
	if null {
		return nil, true, true, nil
	}
	return out, false, !bytes.Equal(out, v), nil
}

// ---- text format ----

// rewriteRows rewrites the newline-terminated rows of a text or csv COPY
// payload; the two formats differ only in how a field is scanned and
// re-encoded. (A plain bool rather than function values keeps the per-row
// path free of allocations.)
func (m *copyRowMasker) rewriteRows(p []byte, csv bool) error {
	ncols := len(m.cols)
	for pos := 0; pos < len(p); {
		if ncols == 0 {
			if p[pos] != '\n' {
				return errCopyShape
			}
			pos++
			m.header = false
			continue
		}
		if p[pos] == '\\' && pos+2 < len(p) && p[pos+1] == '.' && p[pos+2] == '\n' {
			return errCopyEndMarker
		}
		header := m.header
		m.header = false
		for c := 0; ; c++ {
			if c >= ncols {
				return errCopyShape
			}
			start := pos
			var end int
			var special bool // text: a backslash escape; csv: a quote
			var err error
			if csv {
				end, special, err = m.scanCSVField(p, pos)
			} else {
				end, special, err = m.scanTextField(p, pos)
			}
			if err != nil {
				return err
			}
			pos = end + 1
			if !header && m.cols[c].Mask != nil {
				if csv {
					err = m.maskCSVField(c, start, end, special)
				} else {
					err = m.maskTextField(c, start, end, special)
				}
				if err != nil {
					return err
				}
			}
			if p[end] == '\n' {
				if c != ncols-1 {
					return errCopyShape
				}
				break
			}
		}
	}
	return nil
}

// scanTextField finds the end of the field starting at p[i]: the index of
// the delimiter or newline that ends it. escaped reports a backslash.
func (m *copyRowMasker) scanTextField(p []byte, i int) (end int, escaped bool, err error) {
	delim := m.st.Delimiter
	for i < len(p) {
		c := p[i]
		switch {
		case c == delim || c == '\n':
			return i, escaped, nil
		case c == '\r':
			return 0, false, errCopyCR
		case c == '\\':
			// The escaped character is data, even a delimiter. PostgreSQL
			// never escapes a raw newline or CR; refuse them rather than
			// guess where the row ends.
			if i+1 >= len(p) {
				return 0, false, errCopyPartial
			}
			e := p[i+1]
			if e == '\n' || e == '\r' {
				return 0, false, errCopyEscapedEOL
			}
			escaped = true
			if e >= 0x80 && m.mblen != nil {
				n := m.mblen(p[i+1:])
				if n == 0 {
					return 0, false, errCopyEncoding
				}
				i += 1 + n
			} else {
				i += 2
			}
		case c >= 0x80 && m.mblen != nil:
			n := m.mblen(p[i:])
			if n == 0 {
				return 0, false, errCopyEncoding
			}
			i += n
		default:
			i++
		}
	}
	return 0, false, errCopyPartial
}

// maskTextField masks the field in[start:end] of column c.
func (m *copyRowMasker) maskTextField(c, start, end int, escaped bool) error {
	raw := m.in[start:end]
	if string(raw) == m.st.Null {
		return nil // NULL stays NULL
	}
	v := raw
	if escaped {
		var err error
		if m.val, err = m.unescapeText(m.val[:0], raw); err != nil {
			return err
		}
		v = m.val
	}
	out, null, changed, err := m.apply(c, v)
	if err != nil || !changed {
		return err
	}
	m.splice(start)
	if null {
		m.out = append(m.out, m.st.Null...)
	} else if m.out, err = m.appendText(m.out, out); err != nil {
		return &copyError{Column: c, Reason: "a masked value cannot be written", Err: err}
	}
	m.done = end
	return nil
}

// unescapeText de-escapes a text-format field as COPY FROM does: \b \f \n
// \r \t \v, \ and 1-3 octal digits, \x and 1-2 hex digits, and any other
// escaped character stands for itself.
func (m *copyRowMasker) unescapeText(dst, raw []byte) ([]byte, error) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c >= 0x80 && m.mblen != nil {
			n := m.mblen(raw[i:])
			if n == 0 || i+n > len(raw) {
				return nil, errCopyEncoding
			}
			dst = append(dst, raw[i:i+n]...)
			i += n
			continue
		}
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		i++ // scanTextField guarantees a character follows
		c = raw[i]
		i++
		switch c {
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i < len(raw) && raw[i] >= '0' && raw[i] <= '7'; k++ {
				v = v<<3 | int(raw[i]-'0')
				i++
			}
			c = byte(v)
		case 'x':
			if i < len(raw) && isHex(raw[i]) {
				v := hexVal(raw[i])
				i++
				if i < len(raw) && isHex(raw[i]) {
					v = v<<4 | hexVal(raw[i])
					i++
				}
				c = byte(v)
			}
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'v':
			c = '\v'
		default:
			if c >= 0x80 && m.mblen != nil {
				i-- // an escaped multibyte character stands for itself
				continue
			}
		}
		if c == 0 {
			return nil, errCopyNUL
		}
		dst = append(dst, c)
	}
	return dst, nil
}

// appendText appends v escaped as PostgreSQL's CopyAttributeOutText does.
func (m *copyRowMasker) appendText(dst, v []byte) ([]byte, error) {
	q := len(dst)
	dst, err := m.escapeText(dst, v)
	if err == nil && string(dst[q:]) == m.st.Null {
		// reset refuses a NULL string a value can be written as.
		return dst, errCopyNullValue
	}
	return dst, err
}

var errCopyNullValue = copyErr("a masked value would read as NULL")

// textNullAmbiguous reports whether, in text format, some value is written
// exactly as the NULL string, so that the output cannot tell it from NULL:
// PostgreSQL writes NULL as the NULL string but does not escape a value
// equal to it. The default \N is unambiguous (a value's backslash is
// doubled), and so is any NULL string holding something escapeText never
// writes: a backslash not followed by \, the delimiter or one of bfnrtv,
// or a raw delimiter, \b, \f, \t, \v, newline or CR.
func textNullAmbiguous(null string, delim byte, mblen func([]byte) int) bool {
	for i := 0; i < len(null); i++ {
		c := null[i]
		switch {
		case c >= 0x80 && mblen != nil:
			n := mblen([]byte(null[i:]))
			if n == 0 {
				return false // not a valid character: no value is written so
			}
			i += n - 1
		case c == '\\':
			if i+1 == len(null) {
				return false
			}
			i++
			if x := null[i]; x != '\\' && x != delim && strings.IndexByte("bfnrtv", x) < 0 {
				return false
			}
		case c == delim || c == '\b' || c == '\f' || c == '\t' || c == '\v' || c == '\n' || c == '\r':
			return false
		}
	}
	return true
}

var errBadMaskOutput = copyErr("a masked value is not valid in the client encoding or contains a NUL byte")

// escapeText is CopyAttributeOutText: backslash, the delimiter and the
// control characters \b \f \n \r \t \v are escaped; in an encoding that
// embeds ASCII in multibyte characters, those characters are copied whole.
func (m *copyRowMasker) escapeText(dst, v []byte) ([]byte, error) {
	delim := m.st.Delimiter
	start := 0
	for i := 0; i < len(v); {
		c := v[i]
		if c >= 0x80 && m.mblen != nil {
			n := m.mblen(v[i:])
			if n == 0 || i+n > len(v) {
				return dst, errBadMaskOutput
			}
			i += n
			continue
		}
		var e byte
		switch {
		case c == 0:
			return dst, errBadMaskOutput
		case c < 0x20:
			switch c {
			case '\b':
				e = 'b'
			case '\f':
				e = 'f'
			case '\n':
				e = 'n'
			case '\r':
				e = 'r'
			case '\t':
				e = 't'
			case '\v':
				e = 'v'
			default:
				if c != delim {
					i++
					continue
				}
				e = c
			}
		case c == '\\' || c == delim:
			e = c
		default:
			i++
			continue
		}
		dst = append(dst, v[start:i]...)
		dst = append(dst, '\\', e)
		i++
		start = i
	}
	return append(dst, v[start:]...), nil
}

// ---- csv format ----

// scanCSVField finds the end of the field starting at p[i] as COPY FROM
// reads csv: the index of the unquoted delimiter or newline that ends it.
// quoted reports a quote character in the field.
func (m *copyRowMasker) scanCSVField(p []byte, i int) (end int, quoted bool, err error) {
	delim, quote, escape := m.st.Delimiter, m.st.Quote, m.st.Escape
	for {
		// Outside quotes.
		for {
			if i >= len(p) {
				return 0, false, errCopyPartial
			}
			c := p[i]
			switch {
			case c == delim || c == '\n':
				return i, quoted, nil
			case c == '\r':
				return 0, false, errCopyCR
			case c == quote:
				quoted = true
				i++
			case c >= 0x80 && m.mblen != nil:
				n := m.mblen(p[i:])
				if n == 0 {
					return 0, false, errCopyEncoding
				}
				i += n
				continue
			default:
				i++
				continue
			}
			break
		}
		// Inside quotes: delimiters, newlines and CRs are data.
		for {
			if i >= len(p) {
				return 0, false, errCopyPartial
			}
			c := p[i]
			if c == escape && i+1 < len(p) && (p[i+1] == escape || p[i+1] == quote) {
				i += 2
				continue
			}
			if c == quote {
				i++
				break
			}
			if c >= 0x80 && m.mblen != nil {
				n := m.mblen(p[i:])
				if n == 0 {
					return 0, false, errCopyEncoding
				}
				i += n
				continue
			}
			i++
		}
	}
}

// unquoteCSV returns the value of a field with quotes, as COPY FROM reads it.
func (m *copyRowMasker) unquoteCSV(dst, raw []byte) []byte {
	quote, escape := m.st.Quote, m.st.Escape
	in := false
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c >= 0x80 && m.mblen != nil:
			n := m.mblen(raw[i:]) // valid: scanCSVField checked it
			dst = append(dst, raw[i:i+n]...)
			i += n
			continue
		case in && c == escape && i+1 < len(raw) && (raw[i+1] == escape || raw[i+1] == quote):
			dst = append(dst, raw[i+1])
			i += 2
			continue
		case c == quote:
			in = !in
		default:
			dst = append(dst, c)
		}
		i++
	}
	return dst
}

// maskCSVField masks the field in[start:end] of column c.
func (m *copyRowMasker) maskCSVField(c, start, end int, quoted bool) error {
	raw := m.in[start:end]
	if !quoted && string(raw) == m.st.Null {
		return nil // NULL stays NULL
	}
	v := raw
	if quoted {
		m.val = m.unquoteCSV(m.val[:0], raw)
		v = m.val
	}
	out, null, changed, err := m.apply(c, v)
	if err != nil || !changed {
		return err
	}
	m.splice(start)
	if null {
		m.out = append(m.out, m.st.Null...)
	} else if m.out, err = m.appendCSV(m.out, out, c); err != nil {
		return &copyError{Column: c, Reason: "a masked value cannot be written", Err: err}
	}
	m.done = end
	return nil
}

// appendCSV appends v as PostgreSQL's CopyAttributeOutCSV does: quoted
// when FORCE_QUOTE applies, when it equals the NULL string, when it is \.
// alone in a one-column COPY, or when it contains the delimiter, the quote,
// a newline or a CR; inside quotes the quote and escape characters are
// preceded by the escape character.
func (m *copyRowMasker) appendCSV(dst, v []byte, col int) ([]byte, error) {
	delim, quote, escape := m.st.Delimiter, m.st.Quote, m.st.Escape
	use := m.forceQ[col] || string(v) == m.st.Null || len(m.cols) == 1 && string(v) == `\.`
	for i := 0; i < len(v); {
		c := v[i]
		if c >= 0x80 && m.mblen != nil {
			n := m.mblen(v[i:])
			if n == 0 || i+n > len(v) {
				return dst, errBadMaskOutput
			}
			i += n
			continue
		}
		if c == 0 {
			return dst, errBadMaskOutput
		}
		if c == delim || c == quote || c == '\n' || c == '\r' {
			use = true
		}
		i++
	}
	if !use {
		return append(dst, v...), nil
	}
	dst = append(dst, quote)
	start := 0
	for i := 0; i < len(v); {
		c := v[i]
		if c >= 0x80 && m.mblen != nil {
			i += m.mblen(v[i:])
			continue
		}
		if c == quote || c == escape {
			dst = append(dst, v[start:i]...)
			dst = append(dst, escape)
			start = i // the character itself goes with the next run
		}
		i++
	}
	dst = append(dst, v[start:]...)
	return append(dst, quote), nil
}

// ---- binary format ----

// rewriteBinary rewrites the tuples of a binary COPY payload: the file
// header (first payload only), then tuples, then the trailer (-1).
func (m *copyRowMasker) rewriteBinary(p []byte) error {
	pos := 0
	if m.binHdr {
		const fixed = len(binarySignature) + 8
		if len(p) < fixed || string(p[:len(binarySignature)]) != binarySignature {
			return errCopyBinHeader
		}
		flags := binary.BigEndian.Uint32(p[11:])
		ext := binary.BigEndian.Uint32(p[15:])
		// Bit 16 is "OIDs included" (before PostgreSQL 12); bits 17-31 are
		// critical flags a reader must not ignore.
		if flags&0xffff0000 != 0 || ext > math.MaxInt32 || int(ext) > len(p)-fixed {
			return errCopyBinHeader
		}
		pos = fixed + int(ext)
		m.binHdr = false
	}
	ncols := len(m.cols)
	for pos < len(p) {
		if m.binEnd {
			return errCopyTrailer
		}
		if len(p)-pos < 2 {
			return errCopyPartial
		}
		n := int16(binary.BigEndian.Uint16(p[pos:]))
		pos += 2
		if n == -1 {
			m.binEnd = true
			continue
		}
		if int(n) != ncols {
			return errCopyShape
		}
		for c := 0; c < ncols; c++ {
			if len(p)-pos < 4 {
				return errCopyPartial
			}
			start := pos
			l := int32(binary.BigEndian.Uint32(p[pos:]))
			pos += 4
			if l == -1 {
				continue // NULL stays NULL
			}
			if l < 0 || int(l) > len(p)-pos {
				return errCopyPartial
			}
			v := p[pos : pos+int(l)]
			pos += int(l)
			if m.cols[c].Mask == nil {
				continue
			}
			out, null, changed, err := m.apply(c, v)
			if err != nil {
				return err
			}
			if !changed {
				continue
			}
			if len(out) > math.MaxInt32 {
				return &copyError{Column: c, Reason: "a masked value is too long"}
			}
			m.splice(start)
			if null {
				m.out = binary.BigEndian.AppendUint32(m.out, math.MaxUint32) // -1
			} else {
				m.out = binary.BigEndian.AppendUint32(m.out, uint32(len(out)))
				m.out = append(m.out, out...)
			}
			m.done = pos
		}
	}
	return nil
}

// ---- client encodings ----

// copyMblen returns, for a client_encoding (as PostgreSQL reports it), the
// character length function of an encoding whose multibyte characters may
// contain ASCII bytes (SJIS, BIG5, GBK, UHC, GB18030, JOHAB,
// SHIFT_JIS_2004: PostgreSQL copies their characters whole), nil for the
// other supported encodings, and false for an encoding it does not know.
// "" is taken as UTF8.
func copyMblen(clientEncoding string) (func([]byte) int, bool) {
	n := strings.NewReplacer("_", "", "-", "").Replace(strings.ToUpper(clientEncoding))
	switch n {
	case "", "UTF8", "UNICODE", "SQLASCII", "MULEINTERNAL",
		"EUCJP", "EUCCN", "EUCKR", "EUCTW", "EUCJIS2004",
		"LATIN1", "LATIN2", "LATIN3", "LATIN4", "LATIN5", "LATIN6", "LATIN7", "LATIN8", "LATIN9", "LATIN10",
		"ISO88595", "ISO88596", "ISO88597", "ISO88598", "KOI8R", "KOI8U",
		"WIN866", "WIN874", "WIN1250", "WIN1251", "WIN1252", "WIN1253", "WIN1254", "WIN1255", "WIN1256", "WIN1257", "WIN1258":
		return nil, true
	case "SJIS", "SHIFTJIS2004":
		return mblenSJIS, true
	case "BIG5", "GBK", "UHC":
		return mblen2, true
	case "GB18030":
		return mblenGB18030, true
	case "JOHAB":
		return mblenJOHAB, true
	}
	return nil, false
}

// The mblen functions take b with b[0] >= 0x80 and return the length of
// the character (as pg_encoding_mblen), or 0 when it is truncated or a
// following byte is below 0x30 (a control character or ASCII punctuation
// such as a delimiter, never part of a valid character).

func mblen2(b []byte) int {
	if len(b) < 2 || b[1] < 0x30 {
		return 0
	}
	return 2
}

func mblenSJIS(b []byte) int {
	if b[0] >= 0xa1 && b[0] <= 0xdf {
		return 1 // half-width katakana
	}
	return mblen2(b)
}

func mblenGB18030(b []byte) int {
	if len(b) >= 2 && b[1] >= 0x30 && b[1] <= 0x39 {
		if len(b) < 4 || b[2] < 0x30 || b[3] < 0x30 {
			return 0
		}
		return 4
	}
	return mblen2(b)
}

func mblenJOHAB(b []byte) int {
	n := 2
	if b[0] == 0x8f {
		n = 3
	}
	if len(b) < n {
		return 0
	}
	for _, c := range b[1:n] {
		if c < 0x30 {
			return 0
		}
	}
	return n
}
