package resultmask

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// The codec is tested against what a real PostgreSQL sends: each COPY's
// CopyData messages are captured on a raw protocol connection, then
//
//   - with no masks the codec must return every payload unchanged;
//   - every field it decodes must re-encode to the very bytes PostgreSQL
//     wrote (its writer is PostgreSQL's);
//   - with masks, the rewritten stream must load back (COPY FROM STDIN, same
//     options) to exactly the masked values, computed in SQL over the
//     unmasked stream loaded the same way, other columns unchanged;
//   - text and csv payloads joined, and binary payloads split at any tuple
//     boundary, give the same output.

// copyEnv is a database with the test tables.
type copyEnv struct {
	dsn     string
	version int // server_version_num
}

const copyTable = `
CREATE TABLE t (
	id int,
	name text,
	note text,
	amount numeric(12,2),
	born date,
	raw bytea,
	"Odd ""Col""" text
);
INSERT INTO t VALUES
	(1, E'tab\there', E'line1\nline2\r\nend', 12.50, '2020-02-29', '\x00ff5c0a', 'a,b'),
	(2, 'back\slash \N', '\N', NULL, NULL, NULL, NULL),
	(3, '', '"quoted", ''single''', -0.01, '1900-01-01', '\x', ''),
	(4, '张三 欧阳娜娜', E'中文\t逗号，', 9999999999.99, '2026-11-27', '\x5c4e', '"'),
	(5, NULL, 'NULL', 0, '0001-01-01 BC', '\x', 'nil'),
	(6, '\.', '.', 1, 'infinity', '\x2e', '\.'),
	(7, E'\x01ctrl\x7f|;', '\x41', 2, '-infinity', '\x09', E'\x01'),
	(8, 'nil', '<空>', 3, '2000-01-01', '\x0d0a', '<空>'),
	(9, E'\\', E'\\\\', 4, '2000-01-02', '\x5c', E'x\\'),
	(10, 'null', ';', 5, '2000-01-03', '\x7c', '|'),
	(11, E'a\rb', E'\b\f\v', 6, '2000-01-04', '\x00', E'"\n"');
CREATE TABLE t_orig (LIKE t);
CREATE TABLE t_masked (LIKE t);
`

var copyCols = []string{"id", "name", "note", "amount", "born", "raw", `Odd "Col"`}

func setupCopyEnv(t *testing.T, db, schema string) copyEnv {
	t.Helper()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	if err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "CREATE DATABASE "+db+" ENCODING 'UTF8' TEMPLATE template0"); err != nil {
		t.Fatal(err)
	}
	env := copyEnv{dsn: c.DSN("postgres", "", db)}
	conn := pgtest.Connect(t, env.dsn)
	if _, err := conn.Exec(ctx, schema); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&env.version); err != nil {
		t.Fatal(err)
	}
	return env
}

// rawConn opens a protocol-level connection (trust auth as postgres) with
// the given client_encoding.
func rawConn(t *testing.T, dsn, clientEncoding string) *pgconn.HijackedConn {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["client_encoding"] = clientEncoding
	conn, err := pgconn.ConnectConfig(pgtest.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hj, err := conn.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hj.Conn.Close() })
	hj.Conn.SetDeadline(time.Now().Add(30 * time.Second))
	return hj
}

// captureCopy runs a COPY TO STDOUT and returns its CopyData payloads, one
// per message, as PostgreSQL sent them.
func captureCopy(t *testing.T, dsn, clientEncoding, sql string) [][]byte {
	t.Helper()
	hj := rawConn(t, dsn, clientEncoding)
	fe := hj.Frontend
	fe.Send(&pgproto3.Query{String: sql})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	copying := false
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyOutResponse:
			copying = true
		case *pgproto3.CopyData:
			out = append(out, bytes.Clone(m.Data))
		case *pgproto3.ErrorResponse:
			t.Fatalf("%s: %s (%s)", sql, m.Message, m.Code)
		case *pgproto3.ReadyForQuery:
			if !copying {
				t.Fatalf("%s: no COPY", sql)
			}
			fe.Send(&pgproto3.Terminate{})
			fe.Flush()
			return out
		}
	}
}

// loadCopy runs a COPY FROM STDIN with data.
func loadCopy(t *testing.T, dsn, clientEncoding, sql string, data []byte) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["client_encoding"] = clientEncoding
	ctx := pgtest.Context(t)
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.CopyFrom(ctx, bytes.NewReader(data), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// sortedRows runs sql on a UTF-8 connection and returns its rows rendered as
// text (NULL as ␀), sorted.
func sortedRows(t *testing.T, dsn, sql string) []string {
	t.Helper()
	ctx := pgtest.Context(t)
	conn, err := pgconn.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	res, err := conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var rows []string
	for _, r := range res[len(res)-1].Rows {
		vals := make([]string, len(r))
		for i, v := range r {
			if v == nil {
				vals[i] = "␀"
			} else {
				vals[i] = strconv.Quote(string(v))
			}
		}
		rows = append(rows, strings.Join(vals, " | "))
	}
	slices.Sort(rows)
	return rows
}

func sqlLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// testMask is a mask in Go and the same mask in SQL.
type testMask struct {
	fn  func(st copyStmt) copyMaskFunc
	sql func(st copyStmt, col string) string
}

func constMask(text, bin string) testMask {
	val := func(st copyStmt) string {
		if st.Format == 'b' {
			return bin
		}
		return text
	}
	return testMask{
		fn: func(st copyStmt) copyMaskFunc {
			v := val(st)
			return func(dst, _ []byte) ([]byte, bool, error) { return append(dst[:0], v...), false, nil }
		},
		sql: func(st copyStmt, col string) string {
			return "CASE WHEN " + col + " IS NULL THEN NULL ELSE " + sqlLit(val(st)) + " END"
		},
	}
}

const wrapSuffix = ">\t|,\"\\\n\r;\x01'"

var (
	maskUpper = testMask{
		fn: func(copyStmt) copyMaskFunc {
			return func(dst, v []byte) ([]byte, bool, error) {
				dst = append(dst[:0], v...)
				for i, c := range dst {
					if c >= 'a' && c <= 'z' {
						dst[i] = c - ('a' - 'A')
					}
				}
				return dst, false, nil
			}
		},
		sql: func(_ copyStmt, col string) string { return "upper(" + col + ")" },
	}
	maskWrap = testMask{
		fn: func(copyStmt) copyMaskFunc {
			return func(dst, v []byte) ([]byte, bool, error) {
				dst = append(dst[:0], '<')
				dst = append(dst, v...)
				return append(dst, wrapSuffix...), false, nil
			}
		},
		sql: func(_ copyStmt, col string) string { return "'<' || " + col + " || " + sqlLit(wrapSuffix) },
	}
	maskNull = testMask{
		fn: func(copyStmt) copyMaskFunc {
			return func(dst, v []byte) ([]byte, bool, error) { return dst[:0], true, nil }
		},
		sql: func(_ copyStmt, col string) string { return "CASE WHEN false THEN " + col + " END" },
	}
	maskBytea = testMask{
		fn: func(st copyStmt) copyMaskFunc {
			v := `\xdeadbeef`
			if st.Format == 'b' {
				v = "\xde\xad\xbe\xef"
			}
			return func(dst, _ []byte) ([]byte, bool, error) { return append(dst[:0], v...), false, nil }
		},
		sql: func(_ copyStmt, col string) string {
			return "CASE WHEN " + col + ` IS NULL THEN NULL ELSE '\xdeadbeef'::bytea END`
		},
	}
	// maskNullString turns every value into the NULL string itself: the
	// codec must keep it from reading back as NULL.
	maskNullString = testMask{
		fn: func(st copyStmt) copyMaskFunc {
			v := st.Null
			if st.Format == 'b' {
				v = "nil"
			}
			return func(dst, _ []byte) ([]byte, bool, error) { return append(dst[:0], v...), false, nil }
		},
		sql: func(st copyStmt, col string) string {
			v := st.Null
			if st.Format == 'b' {
				v = "nil"
			}
			return "CASE WHEN " + col + " IS NULL THEN NULL ELSE " + sqlLit(v) + " END"
		},
	}
	maskDotSlash = constMask(`\.`, `\.`)
)

var standardMasks = map[string]testMask{
	"name":      maskUpper,
	"note":      maskWrap,
	"amount":    maskNull,
	"raw":       maskBytea,
	`Odd "Col"`: maskNullString,
}

type copyCase struct {
	to    string              // COPY ... TO STDOUT
	from  string              // the options of the matching COPY FROM STDIN
	masks map[string]testMask // by column name
	minPG int                 // server_version_num needed
	// ambiguous: text format with a NULL string a value can be written
	// as; the codec must refuse to mask it.
	ambiguous bool
}

func TestCopyCodecAgainstPostgres(t *testing.T) {
	env := setupCopyEnv(t, "copy_codec", copyTable)
	cases := []copyCase{
		{to: "COPY t TO STDOUT", from: ""},
		{to: "copy public.T to stdout;", from: ""},
		{to: "COPY t TO STDOUT (FORMAT text, HEADER true)", from: "(FORMAT text, HEADER true)", minPG: 150000},
		{to: "COPY t TO STDOUT WITH DELIMITER '|' NULL 'nil'", from: "WITH DELIMITER '|' NULL 'nil'", ambiguous: true},
		{to: "COPY t TO STDOUT (NULL '')", from: "(NULL '')", ambiguous: true},
		{to: `COPY t TO STDOUT (DELIMITER E'\x01', NULL E'NULL\\N')`, from: `(DELIMITER E'\x01', NULL E'NULL\\N')`},
		{to: `COPY t TO STDOUT (NULL $$<空>\N$$, DELIMITER ',')`, from: `(NULL $$<空>\N$$, DELIMITER ',')`},
		{to: `COPY t TO STDOUT (NULL E'\t', DELIMITER '|')`, from: `(NULL E'\t', DELIMITER '|')`},
		{to: "COPY t TO STDOUT CSV HEADER", from: "CSV HEADER"},
		{to: `COPY t TO STDOUT (FORMAT csv, DELIMITER ';', NULL 'NULL', QUOTE '''', ESCAPE E'\\')`,
			from: `(FORMAT csv, DELIMITER ';', NULL 'NULL', QUOTE '''', ESCAPE E'\\')`},
		{to: "COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE *, NULL 'nil', QUOTE '|')", from: "(FORMAT csv, NULL 'nil', QUOTE '|')"},
		{to: `COPY t (id, "Odd ""Col""", name, note) TO STDOUT (FORMAT csv, FORCE_QUOTE ("Odd ""Col""", id), DELIMITER E'\t', ESCAPE E'\\')`,
			from: `(FORMAT csv, DELIMITER E'\t', ESCAPE E'\\')`},
		{to: "COPY t TO STDOUT WITH CSV DELIMITER '|' QUOTE AS '\"' FORCE QUOTE name, note", from: "WITH CSV DELIMITER '|'"},
		{to: "COPY t (name) TO STDOUT (FORMAT csv)", from: "(FORMAT csv)", masks: map[string]testMask{"name": maskDotSlash}},
		{to: "COPY t (name) TO STDOUT (FORMAT csv, HEADER)", from: "(FORMAT csv, HEADER)", masks: map[string]testMask{"name": maskUpper}},
		{to: "COPY t (note) TO STDOUT", from: "", masks: map[string]testMask{"note": maskDotSlash}},
		{to: "COPY t TO STDOUT (FORMAT binary)", from: "(FORMAT binary)"},
		{to: "COPY BINARY t (id, raw, name, \"Odd \"\"Col\"\"\") TO STDOUT", from: "(FORMAT binary)"},
		{to: "COPY t TO STDOUT (FORMAT binary)", from: "(FORMAT binary)", masks: map[string]testMask{}},
	}
	for _, tc := range cases {
		t.Run(tc.to, func(t *testing.T) {
			if env.version < tc.minPG {
				t.Skipf("needs server_version_num %d", tc.minPG)
			}
			runCopyCase(t, env, "UTF8", tc, copyCols)
		})
	}
}

// gbkWithTrail returns a CJK character whose GBK encoding ends in the
// ASCII byte trail.
func gbkWithTrail(t *testing.T, trail byte) string {
	enc := simplifiedchinese.GBK.NewEncoder()
	for r := rune(0x4e00); r < 0x9fa5; r++ {
		b, err := enc.Bytes([]byte(string(r)))
		if err == nil && len(b) == 2 && b[1] == trail {
			return string(r)
		}
	}
	t.Fatalf("no GBK character ends in %q", trail)
	return ""
}

// TestCopyCodecGBK: in GBK the second byte of a character may be an ASCII
// byte such as \ or |; PostgreSQL copies such characters whole (it neither
// escapes nor quotes their bytes), and so must the codec.
func TestCopyCodecGBK(t *testing.T) {
	bs, bar, at := gbkWithTrail(t, '\\'), gbkWithTrail(t, '|'), gbkWithTrail(t, '@')
	schema := fmt.Sprintf(`
CREATE TABLE g (id int, a text, b text, c text);
INSERT INTO g VALUES
	(1, %[1]s, %[1]s, %[1]s),
	(2, %[2]s, %[3]s, %[4]s),
	(3, 'x|y', %[2]s, 'plain'),
	(4, %[3]s, 'b', NULL);
CREATE TABLE t_orig (LIKE g);
CREATE TABLE t_masked (LIKE g);
`, sqlLit(bs+"|"+bar+"\\"+at+"\t\""), sqlLit(bs), sqlLit(bar+bar), sqlLit(at+"\n"+bs))
	env := setupCopyEnv(t, "copy_codec_gbk", schema)
	masks := map[string]testMask{"b": maskWrap, "c": maskNullString}

	// The data is tricky: read as if it were UTF-8, the fields of
	// PostgreSQL's output do not line up.
	st, _ := parseCopyOut("COPY g TO STDOUT (DELIMITER '|')")
	m, err := newCopyRowMasker(st, []copyColumn{{Name: "id"}, {Name: "a"}, {Name: "b", Mask: maskWrap.fn(st)}, {Name: "c"}}, "UTF8")
	if err != nil {
		t.Fatal(err)
	}
	misread := false
	for _, p := range captureCopy(t, env.dsn, "GBK", "COPY g TO STDOUT (DELIMITER '|')") {
		misread = misread || m.RewriteRow([][]byte{p}) != nil
	}
	if !misread {
		t.Fatal("GBK output reads fine as UTF-8: the test data misses the point")
	}
	for _, tc := range []copyCase{
		{to: "COPY g TO STDOUT (DELIMITER '|')", from: "(DELIMITER '|')"},
		{to: `COPY g TO STDOUT (DELIMITER '@', NULL E'\\Nz')`, from: `(DELIMITER '@', NULL E'\\Nz')`},
		{to: "COPY g TO STDOUT (DELIMITER '@', NULL 'z')", from: "(DELIMITER '@', NULL 'z')", ambiguous: true},
		{to: `COPY g TO STDOUT (FORMAT csv, QUOTE '|', ESCAPE E'\\', DELIMITER '@')`, from: `(FORMAT csv, QUOTE '|', ESCAPE E'\\', DELIMITER '@')`},
		{to: `COPY g TO STDOUT (FORMAT csv, QUOTE E'\\', FORCE_QUOTE *)`, from: `(FORMAT csv, QUOTE E'\\')`},
		{to: "COPY g TO STDOUT (FORMAT binary)", from: "(FORMAT binary)"},
	} {
		tc.masks = masks
		t.Run(tc.to, func(t *testing.T) {
			runCopyCase(t, env, "GBK", tc, []string{"id", "a", "b", "c"})
		})
	}
}

// runCopyCase captures the COPY and checks the codec on it (see the top of
// this file).
func runCopyCase(t *testing.T, env copyEnv, clientEncoding string, tc copyCase, tableCols []string) {
	st, ok := parseCopyOut(tc.to)
	if !ok {
		t.Fatalf("parseCopyOut refused %q", tc.to)
	}
	outCols := st.Columns
	if outCols == nil {
		outCols = tableCols
	}
	masks := tc.masks
	if masks == nil {
		masks = standardMasks
	}
	payloads := captureCopy(t, env.dsn, clientEncoding, tc.to)
	if len(payloads) < 2 {
		t.Fatalf("only %d CopyData messages", len(payloads))
	}

	// (a) No masks: every payload unchanged.
	plain := make([]copyColumn, len(outCols))
	for i, name := range outCols {
		plain[i] = copyColumn{Name: name}
	}
	m, err := newCopyRowMasker(st, plain, clientEncoding)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range payloads {
		vals := [][]byte{p}
		if err := m.RewriteRow(vals); err != nil {
			t.Fatalf("payload %d %q: %v", i, p, err)
		}
		if &vals[0][0] != &p[0] {
			t.Fatalf("payload %d was copied although nothing changed", i)
		}
	}

	// The codec's writer is PostgreSQL's.
	if st.Format != 'b' {
		checkCanonical(t, m, st, payloads)
	}

	// (b) Masks: the stream loads back to the masked values.
	cols := make([]copyColumn, len(outCols))
	exprs := make([]string, len(outCols))
	for i, name := range outCols {
		cols[i] = copyColumn{Name: name}
		exprs[i] = sqlIdent(name)
		if tm, ok := masks[name]; ok {
			cols[i].Mask = tm.fn(st)
			exprs[i] = tm.sql(st, sqlIdent(name))
		}
	}
	if err := m.reset(st, cols, clientEncoding); tc.ambiguous {
		if err == nil {
			t.Fatal("masking with an ambiguous NULL string was not refused")
		}
		return
	} else if err != nil {
		t.Fatal(err)
	}
	var orig, masked []byte
	for i, p := range payloads {
		orig = append(orig, p...)
		vals := [][]byte{bytes.Clone(p)}
		if err := m.RewriteRow(vals); err != nil {
			t.Fatalf("payload %d %q: %v", i, p, err)
		}
		masked = append(masked, vals[0]...)
	}

	// Several rows per payload (text, csv) or any split at tuple
	// boundaries (binary) give the same stream.
	for _, split := range resplit(t, st, payloads) {
		if err := m.reset(st, cols, clientEncoding); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for _, p := range split {
			vals := [][]byte{p}
			if err := m.RewriteRow(vals); err != nil {
				t.Fatalf("resplit %d payloads: %v", len(split), err)
			}
			got = append(got, vals[0]...)
		}
		if !bytes.Equal(got, masked) {
			t.Fatalf("resplit into %d payloads: output differs\n got %q\nwant %q", len(split), got, masked)
		}
	}

	list := make([]string, len(outCols))
	for i, name := range outCols {
		list[i] = sqlIdent(name)
	}
	collist := "(" + strings.Join(list, ", ") + ")"
	exec := func(sql string) {
		ctx := pgtest.Context(t)
		conn, err := pgconn.Connect(ctx, env.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, sql).ReadAll(); err != nil {
			t.Fatal(err)
		}
	}
	exec("TRUNCATE t_orig, t_masked")
	loadCopy(t, env.dsn, clientEncoding, "COPY t_orig "+collist+" FROM STDIN "+tc.from, orig)
	loadCopy(t, env.dsn, clientEncoding, "COPY t_masked "+collist+" FROM STDIN "+tc.from, masked)
	want := sortedRows(t, env.dsn, "SELECT "+strings.Join(exprs, ", ")+" FROM t_orig")
	got := sortedRows(t, env.dsn, "SELECT "+strings.Join(list, ", ")+" FROM t_masked")
	if len(want) < 4 || !slices.Equal(got, want) {
		t.Fatalf("masked COPY loads back as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if bytes.Equal(orig, masked) && len(masks) > 0 {
		t.Fatal("masks changed nothing")
	}
}

// checkCanonical decodes every field of the data rows of text or csv
// payloads and checks that the codec's writer gives back PostgreSQL's bytes.
func checkCanonical(t *testing.T, m *copyRowMasker, st copyStmt, payloads [][]byte) {
	t.Helper()
	n := 0
	for i, p := range payloads {
		if i == 0 && st.Header {
			continue
		}
		m.in = p
		for pos := 0; pos < len(p); {
			var end int
			var enc []byte
			var err error
			start := pos
			if st.Format == 't' {
				var escaped bool
				if end, escaped, err = m.scanTextField(p, pos); err != nil {
					t.Fatal(err)
				}
				raw := p[start:end]
				if string(raw) != st.Null {
					v := raw
					if escaped {
						if v, err = m.unescapeText(nil, raw); err != nil {
							t.Fatal(err)
						}
					}
					enc, err = m.appendText(nil, v)
				} else {
					enc = raw
				}
			} else {
				var quoted bool
				if end, quoted, err = m.scanCSVField(p, pos); err != nil {
					t.Fatal(err)
				}
				raw := p[start:end]
				if quoted || string(raw) != st.Null {
					v := raw
					if quoted {
						v = m.unquoteCSV(nil, raw)
					}
					enc, err = m.appendCSV(nil, v, fieldIndex(m, p, start))
				} else {
					enc = raw
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if raw := p[start:end]; !bytes.Equal(enc, raw) {
				t.Errorf("payload %d: field %q re-encodes as %q", i, raw, enc)
			}
			n++
			pos = end + 1
		}
	}
	if n == 0 {
		t.Fatal("no field checked")
	}
}

// fieldIndex returns the column of the csv field starting at p[start] in a
// one-row payload.
func fieldIndex(m *copyRowMasker, p []byte, start int) int {
	c := 0
	for pos := 0; pos < start; c++ {
		end, _, err := m.scanCSVField(p, pos)
		if err != nil {
			return -1
		}
		pos = end + 1
	}
	return c
}

// resplit returns other splits of the same stream: for text and csv all
// rows in one payload; for binary, the header alone, every tuple and the
// trailer apart, all in one payload, and pairs of tuples.
func resplit(t *testing.T, st copyStmt, payloads [][]byte) [][][]byte {
	all := bytes.Join(payloads, nil)
	if st.Format != 'b' {
		return [][][]byte{{all}}
	}
	// Find the tuple boundaries.
	ext := int(binary.BigEndian.Uint32(all[15:]))
	hdr := 19 + ext
	bounds := []int{hdr}
	for pos := hdr; pos < len(all); {
		n := int16(binary.BigEndian.Uint16(all[pos:]))
		pos += 2
		for i := 0; i < int(n); i++ {
			l := int32(binary.BigEndian.Uint32(all[pos:]))
			pos += 4
			if l > 0 {
				pos += int(l)
			}
		}
		bounds = append(bounds, pos)
	}
	if bounds[len(bounds)-1] != len(all) {
		t.Fatal("binary stream does not end at a tuple boundary")
	}
	var apart, pairs [][]byte
	apart = append(apart, all[:hdr])
	prev := hdr
	for i, b := range bounds[1:] {
		apart = append(apart, all[prev:b])
		if i%2 == 1 || b == len(all) {
			start := 0
			if len(pairs) > 0 {
				start = len(bytes.Join(pairs, nil))
			}
			pairs = append(pairs, all[start:b])
		}
		prev = b
	}
	return [][][]byte{{all}, apart, pairs}
}

// TestParseCopyOutMatchesPostgres runs every statement of the parser's
// accept table against PostgreSQL. Where PostgreSQL runs it, its output must
// be what the parse says: the first field of the first data row is NULL by
// the parsed NULL string (column a is NULL there), every row splits into
// the expected number of fields, and every field re-encodes identically.
func TestParseCopyOutMatchesPostgres(t *testing.T) {
	var schema strings.Builder
	schema.WriteString("CREATE SCHEMA bk; CREATE SCHEMA \"Bk\";\n")
	for _, tbl := range []string{"t", "bk.contacts", `"Bk"."My ""Table"""`, "客户", "t$1_x"} {
		fmt.Fprintf(&schema, `CREATE TABLE %[1]s (a text, b text, "B" text, c text, c_3 text, csv text);
INSERT INTO %[1]s VALUES (NULL, 'x,y"z', E'tab\there', '', '\N', 'NULL'), ('a', 'b', 'c', 'd', 'e', 'f');
`, tbl)
	}
	env := setupCopyEnv(t, "copy_parse_pg", schema.String())
	allCols := []string{"a", "b", "B", "c", "c_3", "csv"}
	ran := 0
	for _, tc := range copyAcceptCases {
		st := tc.want
		hj := rawConn(t, env.dsn, "UTF8")
		hj.Frontend.Send(&pgproto3.Query{String: tc.sql})
		if err := hj.Frontend.Flush(); err != nil {
			t.Fatal(err)
		}
		var payloads [][]byte
		var pgErr *pgproto3.ErrorResponse
	read:
		for {
			msg, err := hj.Frontend.Receive()
			if err != nil {
				t.Fatal(err)
			}
			switch m := msg.(type) {
			case *pgproto3.CopyData:
				payloads = append(payloads, bytes.Clone(m.Data))
			case *pgproto3.ErrorResponse:
				e := *m
				pgErr = &e
			case *pgproto3.ReadyForQuery:
				break read
			}
		}
		hj.Conn.Close()
		if pgErr != nil {
			t.Logf("%s: PostgreSQL refuses it (%s)", tc.sql, pgErr.Message)
			continue
		}
		ran++
		names := st.Columns
		if names == nil {
			names = allCols
		}
		cols := make([]copyColumn, len(names))
		for i, n := range names {
			cols[i] = copyColumn{Name: n}
		}
		m, err := newCopyRowMasker(st, cols, "UTF8")
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		for _, p := range payloads {
			if err := m.RewriteRow([][]byte{p}); err != nil {
				t.Fatalf("%s: payload %q: %v", tc.sql, p, err)
			}
		}
		first := 0
		if st.Header {
			first = 1
		}
		switch st.Format {
		case 'b':
			if !bytes.HasPrefix(payloads[0], []byte(binarySignature)) {
				t.Fatalf("%s: not binary: %q", tc.sql, payloads[0])
			}
			continue
		case 't':
			if !bytes.HasPrefix(payloads[first], []byte(st.Null+string(st.Delimiter))) && !bytes.Equal(payloads[first], []byte(st.Null+"\n")) {
				t.Fatalf("%s: first field of %q is not the NULL string %q", tc.sql, payloads[first], st.Null)
			}
		case 'c':
			if end, quoted, err := m.scanCSVField(payloads[first], 0); err != nil || quoted || string(payloads[first][:end]) != st.Null {
				t.Fatalf("%s: first field of %q is not the NULL string %q", tc.sql, payloads[first], st.Null)
			}
		}
		checkCanonical(t, m, st, payloads)
	}
	if ran < len(copyAcceptCases)*2/3 {
		t.Fatalf("PostgreSQL ran only %d of %d statements", ran, len(copyAcceptCases))
	}
}
