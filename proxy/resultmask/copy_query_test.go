package resultmask

import "testing"

// TestParseCopyQuery: COPY (query) TO STDOUT yields the query text exactly,
// whatever parentheses, strings, identifiers, dollar quotes and comments it
// holds; malformed or ambiguous forms are refused.
func TestParseCopyQuery(t *testing.T) {
	for sql, want := range map[string]string{
		"COPY (SELECT * FROM t) TO STDOUT":                                   "SELECT * FROM t",
		"copy ( select a, (b + 1) from t where c = ')' ) to stdout with csv": " select a, (b + 1) from t where c = ')' ",
		`COPY (SELECT ")" AS "a""b" FROM t) TO STDOUT (FORMAT binary)`:       `SELECT ")" AS "a""b" FROM t`,
		"COPY (SELECT $$)$$, $q$ ) $q$ FROM t) TO STDOUT":                    "SELECT $$)$$, $q$ ) $q$ FROM t",
		"COPY /* ( */ (SELECT 1 -- )\n) TO STDOUT;":                          "SELECT 1 -- )\n",
		"COPY (SELECT E'\\')' FROM t) TO STDOUT":                             "SELECT E'\\')' FROM t",
	} {
		st, ok := parseCopyOut(sql)
		if !ok || st.Query != want {
			t.Errorf("%q: got %q, %v; want %q", sql, st.Query, ok, want)
		}
	}
	for _, sql := range []string{
		"COPY (SELECT 1; SELECT 2) TO STDOUT",
		"COPY (SELECT '\\') FROM t) TO STDOUT", // backslash meaning unknown
		"COPY (SELECT 1 TO STDOUT",
		"COPY (SELECT $$) TO STDOUT",
		"COPY (SELECT 1) TO '/tmp/x'",
		"COPY (SELECT 1) TO STDOUT; SELECT 2",
	} {
		if st, ok := parseCopyOut(sql); ok {
			t.Errorf("%q accepted as %+v", sql, st)
		}
	}
}
