package resultmask

import (
	"reflect"
	"strings"
	"testing"
)

func textCopy(schema, table string, cols ...string) copyStmt {
	return copyStmt{Schema: schema, Table: table, Columns: cols, Format: 't', Delimiter: '\t', Null: `\N`}
}

func csvCopy(schema, table string, cols ...string) copyStmt {
	return copyStmt{Schema: schema, Table: table, Columns: cols, Format: 'c', Delimiter: ',', Null: "", Quote: '"', Escape: '"'}
}

func binCopy(schema, table string, cols ...string) copyStmt {
	return copyStmt{Schema: schema, Table: table, Columns: cols, Format: 'b'}
}

func with(st copyStmt, f func(*copyStmt)) copyStmt {
	f(&st)
	return st
}

// copyAcceptCases are statements parseCopyOut accepts, with their reading.
// TestParseCopyOutMatchesPostgres runs them.
var copyAcceptCases = []struct {
	sql  string
	want copyStmt
}{
	{"COPY t TO STDOUT", textCopy("", "t")},
	{"copy T to stdout;", textCopy("", "t")},
	{"  COPY bk.Contacts TO STDOUT ;  -- done\n", textCopy("bk", "contacts")},
	{`COPY "Bk"."My ""Table""" TO STDOUT`, textCopy("Bk", `My "Table"`)},
	{`COPY bk . contacts TO STDOUT`, textCopy("bk", "contacts")},
	{"COPY ONLY bk.contacts TO STDOUT", textCopy("bk", "contacts")},
	{"COPY 客户 TO STDOUT", textCopy("", "客户")},
	{"COPY t$1_x TO STDOUT", textCopy("", "t$1_x")},
	{`COPY t (a, "B", c_3) TO STDOUT`, textCopy("", "t", "a", "B", "c_3")},
	{"COPY/*x*/t/* nested /* comment */ still */(a)--c\nTO\tSTDOUT", textCopy("", "t", "a")},
	{"COPY t TO STDOUT WITH", textCopy("", "t")},
	// Generic options.
	{"COPY t TO STDOUT (FORMAT csv)", csvCopy("", "t")},
	{"COPY t TO STDOUT WITH (FORMAT 'csv', HEADER)", with(csvCopy("", "t"), func(s *copyStmt) { s.Header = true })},
	{`COPY t TO STDOUT ("format" "csv", header true)`, with(csvCopy("", "t"), func(s *copyStmt) { s.Header = true })},
	{"COPY t TO STDOUT (FORMAT csv, HEADER off)", csvCopy("", "t")},
	{"COPY t TO STDOUT (FORMAT csv, HEADER 0)", csvCopy("", "t")},
	{"COPY t TO STDOUT (FORMAT csv, HEADER 'ON')", with(csvCopy("", "t"), func(s *copyStmt) { s.Header = true })},
	{"COPY t TO STDOUT (FORMAT csv, HEADER MATCH)", with(csvCopy("", "t"), func(s *copyStmt) { s.Header = true })},
	{"COPY t TO STDOUT (FORMAT text, HEADER 1)", with(textCopy("", "t"), func(s *copyStmt) { s.Header = true })},
	{"COPY t TO STDOUT (FORMAT binary)", binCopy("", "t")},
	{"COPY t TO STDOUT (FORMAT BINARY, FREEZE false)", binCopy("", "t")},
	{"COPY t TO STDOUT (DELIMITER '|', NULL 'null')", with(textCopy("", "t"), func(s *copyStmt) { s.Delimiter, s.Null = '|', "null" })},
	{"COPY t TO STDOUT (DELIMITER E'\\x01', NULL '')", with(textCopy("", "t"), func(s *copyStmt) { s.Delimiter, s.Null = 1, "" })},
	{"COPY t TO STDOUT (NULL E'é\\\\N')", with(textCopy("", "t"), func(s *copyStmt) { s.Null = `é\N` })},
	{"COPY t TO STDOUT (NULL $$<空>$$, DELIMITER $d$;$d$)", with(textCopy("", "t"), func(s *copyStmt) { s.Null, s.Delimiter = "<空>", ';' })},
	{"COPY t TO STDOUT (FORMAT csv, DELIMITER ';', NULL 'NULL', QUOTE '''', ESCAPE E'\\\\')",
		with(csvCopy("", "t"), func(s *copyStmt) { s.Delimiter, s.Null, s.Quote, s.Escape = ';', "NULL", '\'', '\\' })},
	{"COPY t TO STDOUT (FORMAT csv, QUOTE '|')", with(csvCopy("", "t"), func(s *copyStmt) { s.Quote, s.Escape = '|', '|' })},
	{"COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE *)", with(csvCopy("", "t"), func(s *copyStmt) { s.ForceQuoteAll = true })},
	{`COPY t (a, "B", c) TO STDOUT (FORMAT csv, FORCE_QUOTE (a, "B", 'c'))`,
		with(csvCopy("", "t", "a", "B", "c"), func(s *copyStmt) { s.ForceQuote = []string{"a", "B", "c"} })},
	{"COPY t TO STDOUT (FORMAT csv, FORCE_NOT_NULL (a), FORCE_NULL *)", csvCopy("", "t")},
	// Legacy options.
	{"COPY t TO STDOUT CSV HEADER", with(csvCopy("", "t"), func(s *copyStmt) { s.Header = true })},
	{"COPY t TO STDOUT WITH CSV", csvCopy("", "t")},
	{"COPY t TO STDOUT WITH BINARY", binCopy("", "t")},
	{"COPY BINARY t TO STDOUT", binCopy("", "t")},
	{"COPY t TO STDOUT BINARY FREEZE", binCopy("", "t")},
	{"COPY t TO STDOUT DELIMITER '|' NULL AS 'x'", with(textCopy("", "t"), func(s *copyStmt) { s.Delimiter, s.Null = '|', "x" })},
	{"COPY t TO STDOUT USING DELIMITERS ';'", with(textCopy("", "t"), func(s *copyStmt) { s.Delimiter = ';' })},
	{"COPY t TO STDOUT DELIMITERS '|' WITH CSV", with(csvCopy("", "t"), func(s *copyStmt) { s.Delimiter = '|' })},
	{"COPY t TO STDOUT DELIMITERS ';' (FORMAT csv)", with(csvCopy("", "t"), func(s *copyStmt) { s.Delimiter = ';' })},
	{"COPY t TO STDOUT CSV QUOTE AS '''' ESCAPE E'\\\\' FORCE QUOTE a, csv HEADER",
		with(csvCopy("", "t"), func(s *copyStmt) {
			s.Quote, s.Escape, s.ForceQuote, s.Header = '\'', '\\', []string{"a", "csv"}, true
		})},
	{"COPY t TO STDOUT CSV FORCE QUOTE *", with(csvCopy("", "t"), func(s *copyStmt) { s.ForceQuoteAll = true })},
	{"COPY t TO STDOUT CSV FORCE QUOTE */* c */", with(csvCopy("", "t"), func(s *copyStmt) { s.ForceQuoteAll = true })},
	{"COPY t TO STDOUT CSV FORCE NOT NULL a, b FORCE NULL c", csvCopy("", "t")},
	{"COPY t TO STDOUT CSV NULL 'n' DELIMITER ';'", with(csvCopy("", "t"), func(s *copyStmt) { s.Null, s.Delimiter = "n", ';' })},
}

func TestParseCopyOutAccepts(t *testing.T) {
	for _, tc := range copyAcceptCases {
		got, ok := parseCopyOut(tc.sql)
		if !ok {
			t.Errorf("%q: not accepted", tc.sql)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.sql, got, tc.want)
		}
	}
}

func TestParseCopyOutRejects(t *testing.T) {
	for _, sql := range []string{
		"",
		";",
		"SELECT 1",
		"COPY",
		"COPY t",
		"COPY t TO",
		"COPY t FROM STDIN",
		"COPY t TO STDIN",
		"COPY t TO '/tmp/x'",
		"COPY t TO PROGRAM 'cat'",
		"COPY db.s.t TO STDOUT",
		"COPY t () TO STDOUT",
		"COPY t (a,) TO STDOUT",
		"COPY t (a TO STDOUT",
		"COPY t TO STDOUT; COPY u TO STDOUT",
		"COPY t TO STDOUT;;",
		"COPY t TO STDOUT; SELECT 1",
		"SELECT 1; COPY t TO STDOUT",
		"COPY t TO STDOUT /* unterminated",
		"COPY t TO STDOUT /* /* nested */ still open",
		"COPY t /* a */ u TO STDOUT",
		"COPY \"t TO STDOUT",
		`COPY "" TO STDOUT`,
		`COPY U&"t" TO STDOUT`,
		`COPY u&"t" TO STDOUT`,
		`COPY "TO" STDOUT`,
		"COPY t \"TO\" STDOUT",
		"COPY t TO \"STDOUT\"",
		"COPY t TO STDOUT WHERE a > 1",
		"COPY t TO STDOUT (ENCODING 'UTF8')",
		"COPY t TO STDOUT ENCODING 'UTF8'",
		"COPY t TO STDOUT (FORMAT csv, ENCODING 'GBK')",
		"COPY t TO STDOUT (DEFAULT 'x')",
		"COPY t TO STDOUT (ON_ERROR ignore)",
		"COPY t TO STDOUT (CONVERT_SELECTIVELY (a))",
		"COPY t TO STDOUT (BOGUS)",
		"COPY t TO STDOUT (\"FORMAT\" csv)",
		"COPY t TO STDOUT (FORMAT 'CSV')",
		"COPY t TO STDOUT (FORMAT \"CSV\")",
		"COPY t TO STDOUT (FORMAT xml)",
		"COPY t TO STDOUT (FORMAT)",
		"COPY t TO STDOUT (FORMAT csv, FORMAT csv)",
		"COPY t TO STDOUT (FORMAT csv FORMAT text)",
		"COPY t TO STDOUT (FORMAT csv,)",
		"COPY t TO STDOUT (FORMAT csv",
		"COPY t TO STDOUT ()",
		"COPY t TO STDOUT CSV BINARY",
		"COPY t TO STDOUT CSV CSV",
		"COPY BINARY t TO STDOUT CSV",
		"COPY t TO STDOUT HEADER HEADER",
		"COPY t TO STDOUT (HEADER 2)",
		"COPY t TO STDOUT (HEADER maybe)",
		"COPY t TO STDOUT (FREEZE 2)",
		"COPY t TO STDOUT (DELIMITER '||')",
		"COPY t TO STDOUT (DELIMITER '')",
		"COPY t TO STDOUT (DELIMITER E'\\n')",
		"COPY t TO STDOUT (DELIMITER 'a')",
		"COPY t TO STDOUT (DELIMITER '.')",
		"COPY t TO STDOUT (DELIMITER '5')",
		"COPY t TO STDOUT (DELIMITER E'\\\\')",
		"COPY t TO STDOUT (DELIMITER '、')",
		"COPY t TO STDOUT (DELIMITER 1)",
		"COPY t TO STDOUT (DELIMITER x)",
		"COPY t TO STDOUT (DELIMITER '|', DELIMITER ',')",
		"COPY t TO STDOUT USING DELIMITERS '|' (DELIMITER ',')",
		"COPY t TO STDOUT USING (FORMAT csv)",
		"COPY t TO STDOUT (NULL E'a\\nb')",
		"COPY t TO STDOUT (NULL 'a,b', DELIMITER ',')",
		"COPY t TO STDOUT (NULL '\\N')",           // meaning depends on standard_conforming_strings
		"COPY t TO STDOUT (NULL E'\\N\\t')",       // contains the delimiter
		"COPY t TO STDOUT (NULL 'a'\n'b')",        // string continuation
		"COPY t TO STDOUT (NULL 'a' /* c */ 'b')", // adjacent constants
		"COPY t TO STDOUT (NULL E'\\u00e9')",
		"COPY t TO STDOUT (NULL E'x\\\\')",        // ends in a backslash: escapes the delimiter
		"COPY t TO STDOUT (NULL E'\\\\\\\\\\\\')", // three backslashes
		"COPY t TO STDOUT (NULL E'\\351')",
		"COPY t TO STDOUT (NULL E'\\0')",
		"COPY t TO STDOUT (NULL N'x')",
		"COPY t TO STDOUT (NULL X'00')",
		"COPY t TO STDOUT (NULL U&'x')",
		"COPY t TO STDOUT (NULL $1)",
		"COPY t TO STDOUT (NULL $x$ unterminated)",
		"COPY t TO STDOUT (NULL 'x)",
		"COPY t TO STDOUT (QUOTE '\"')", // QUOTE in text format
		"COPY t TO STDOUT (ESCAPE '\"')",
		"COPY t TO STDOUT (FORCE_QUOTE *)",
		"COPY t TO STDOUT (FORMAT csv, QUOTE '')",
		"COPY t TO STDOUT (FORMAT csv, QUOTE ',')",
		"COPY t TO STDOUT (FORMAT csv, QUOTE '\"\"')",
		"COPY t TO STDOUT (FORMAT csv, ESCAPE 'ab')",
		"COPY t TO STDOUT (FORMAT csv, QUOTE E'\\n')",
		"COPY t TO STDOUT (FORMAT csv, NULL '\"')",
		"COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE)",
		"COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE a)",
		"COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE *, FORCE_QUOTE (a))",
		"COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE ())",
		"COPY t TO STDOUT (FORMAT binary, HEADER)",
		"COPY t TO STDOUT (FORMAT binary, DELIMITER ',')",
		"COPY t TO STDOUT (FORMAT binary, NULL '')",
		"COPY t TO STDOUT BINARY CSV",
		"COPY t TO STDOUT CSV FORCE QUOTE",
		"COPY t (a, b) TO STDOUT CSV FORCE QUOTE c",
		`COPY t (a, b) TO STDOUT (FORMAT csv, FORCE_QUOTE ("A"))`,
		"COPY t TO STDOUT CSV FORCE QUOTE *=",
		"COPY t TO STDOUT CSV FORCE QUOTE 'a'",
		"COPY t TO STDOUT CSV FORCE a",
		"COPY t TO STDOUT CSV FORCE NOT a",
		"COPY t TO STDOUT CSV QUOTE '''' ESCAPE '\\'",
		"COPY t TO STDOUT DELIMITER",
		"COPY t TO STDOUT DELIMITER AS",
		"COPY t TO STDOUT NULL x",
		"COPY t TO STDOUT (HEADER 1.0)",
		"COPY t TO STDOUT (HEADER 1e1)",
		"COPY t TO STDOUT (HEADER -1)",
		"COPY t TO STDOUT (FORMAT csv, HEADER, FORMAT csv)",
		"COPY t TO STDOUT WITH WITH",
		"COPY t TO STDOUT (FORMAT csv) CSV",
		"COPY x123456789012345678901234567890123456789012345678901234567890abcd TO STDOUT",
		`COPY "x123456789012345678901234567890123456789012345678901234567890abcd" TO STDOUT`,
		"COPY t TO STDOUT \x00",
		"COPY t TO STDOUT \xff",
	} {
		if st, ok := parseCopyOut(sql); ok {
			t.Errorf("%q: accepted as %+v", sql, st)
		}
	}
}

func TestParseCopyOutStrings(t *testing.T) {
	for _, tc := range []struct {
		sql       string
		std       bool
		wantNull  string
		wantQuote byte
	}{
		{`COPY t TO STDOUT (NULL '\N')`, true, `\N`, 0},
		{`COPY t TO STDOUT (NULL 'a\N')`, false, `aN`, 0},
		{`COPY t TO STDOUT (NULL 'it\'s')`, false, `it's`, 0},
		{`COPY t TO STDOUT (NULL E'\\N')`, true, `\N`, 0},
		{`COPY t TO STDOUT (FORMAT csv, ESCAPE '\')`, true, ``, '"'},
	} {
		st, ok := parseCopyOutStrings(tc.sql, tc.std)
		if !ok || st.Null != tc.wantNull || st.Quote != tc.wantQuote {
			t.Errorf("%s (standard_conforming_strings %v): got %+v, %v", tc.sql, tc.std, st, ok)
		}
		if _, ok := parseCopyOut(tc.sql); ok && !strings.Contains(tc.sql, "E'") {
			t.Errorf("%s: accepted without knowing standard_conforming_strings", tc.sql)
		}
	}
	if st, ok := parseCopyOutStrings(`COPY t TO STDOUT (FORMAT csv, ESCAPE '\')`, true); !ok || st.Escape != '\\' {
		t.Errorf("ESCAPE '\\' with standard strings: %+v", st)
	}
	if _, ok := parseCopyOutStrings(`COPY t TO STDOUT (FORMAT csv, ESCAPE '\')`, false); ok {
		t.Error("ESCAPE '\\' without standard strings is an unterminated constant")
	}
}

// FuzzParseCopyOut: any text parses without panicking; what is accepted is
// a usable statement, and accepted the same with a known
// standard_conforming_strings.
func FuzzParseCopyOut(f *testing.F) {
	for _, tc := range copyAcceptCases {
		f.Add(tc.sql)
	}
	f.Add("COPY t TO STDOUT (NULL E'\\x41\\101', DELIMITER $a$|$a$) /* x /* y */ */ ;")
	f.Fuzz(func(t *testing.T, sql string) {
		st, ok := parseCopyOut(sql)
		if !ok {
			return
		}
		if (st.Table == "") == (strings.TrimSpace(st.Query) == "") || len(st.Table) > maxIdentLen || len(st.Schema) > maxIdentLen {
			t.Fatalf("%q: bad name in %+v", sql, st)
		}
		for _, std := range []bool{true, false} {
			st2, ok := parseCopyOutStrings(sql, std)
			if !ok || !reflect.DeepEqual(st, st2) {
				t.Fatalf("%q: %+v, but with standard_conforming_strings %v: %+v %v", sql, st, std, st2, ok)
			}
		}
		cols := make([]copyColumn, len(st.Columns))
		for i, c := range st.Columns {
			cols[i] = copyColumn{Name: c}
		}
		if st.Columns == nil {
			cols = []copyColumn{{Name: "x"}}
			for _, c := range st.ForceQuote {
				cols = append(cols, copyColumn{Name: c})
			}
		}
		if _, err := newCopyRowMasker(st, cols, "UTF8"); err != nil {
			t.Fatalf("%q: %+v: %v", sql, st, err)
		}
	})
}
