package audit

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

const seed = "13912345678"

var digitRuns = regexp.MustCompile(`[0-9]+`)

// leakCorpus holds the seed in every place a literal can be written.
var leakCorpus = []string{
	"SELECT * FROM t WHERE mobile = '" + seed + "'",
	"SELECT * FROM t WHERE mobile = " + seed,
	"SELECT * FROM t WHERE mobile = E'\\x31" + seed + "'",
	"SELECT * FROM t WHERE mobile = U&'" + seed + "'",
	"SELECT * FROM t WHERE mobile = $$" + seed + "$$",
	"SELECT * FROM t WHERE mobile = $tag$" + seed + "$tag$",
	"SELECT * FROM t WHERE mobile = N'" + seed + "'",
	"SELECT B'101', X'" + seed + "'",
	"SELECT '" + seed + "'::text, interval '" + seed + " seconds'",
	"SELECT 1 -- " + seed,
	"SELECT /* " + seed + " */ 1",
	"SELECT /* nested /* " + seed + " */ */ 1",
	"INSERT INTO t VALUES ('a', '" + seed + "'), ('b', -" + seed + ".5e3)",
	"UPDATE t SET mobile = '" + seed + "' WHERE id = 1; DELETE FROM t WHERE mobile = '" + seed + "'",
	"ALTER ROLE bob PASSWORD '" + seed + "'",
	"CREATE ROLE x LOGIN PASSWORD '" + seed + "'",
	"ALTER USER x WITH ENCRYPTED PASSWORD '" + seed + "' VALID UNTIL '2030-01-01'",
	"COPY t FROM '/tmp/" + seed + ".csv'",
	"COPY (SELECT * FROM t WHERE mobile = '" + seed + "') TO STDOUT",
	"EXECUTE p('" + seed + "', " + seed + ")",
	"PREPARE p AS SELECT * FROM t WHERE m = '" + seed + "'",
	"COMMENT ON TABLE t IS '" + seed + "'",
	"CREATE TABLE t (a text DEFAULT '" + seed + "', b int CHECK (b <> " + seed + "))",
	"CREATE FUNCTION f() RETURNS text AS 'SELECT ''" + seed + "''' LANGUAGE sql",
	"DO $$BEGIN RAISE NOTICE '" + seed + "'; END$$",
	"NOTIFY ch, '" + seed + "'",
	"SET application_name = '" + seed + "'",
	"SET SESSION AUTHORIZATION '" + seed + "'",
	"ALTER SYSTEM SET work_mem = '" + seed + "'",
	"SELECT set_config('x.y', '" + seed + "', false)",
	"SELECT * FROM t LIMIT " + seed + " OFFSET " + seed,
	"SELECT ARRAY['" + seed + "'], ROW(" + seed + ")",
	"SELECT * FROM t WHERE m IN ('" + seed + "', '" + seed + "1')",
	"SELECT * FROM t WHERE m LIKE '%" + seed + "%' ESCAPE '!'",
	"SELECT 'it''s " + seed + "'",
	"SELECT 'a'\n'" + seed + "'",
	"SELECT (" + seed + ")",
	"SELECT 0x" + seed + ", 1_000_" + seed,
	"DECLARE c CURSOR FOR SELECT * FROM t WHERE m = '" + seed + "'",
	"CREATE VIEW v AS SELECT * FROM t WHERE m = '" + seed + "'",
	"CREATE POLICY p ON t USING (m <> '" + seed + "')",
	"CALL p('" + seed + "')",
	"SELEC '" + seed + "'", // unparseable
	"SELECT '" + seed,      // unterminated
	"SELECT \"a\" FROM t WHERE \"b\" = '" + seed + "'",
}

var hashField = regexp.MustCompile(`"sql_hash":"[0-9a-f]{64}"`)

// TestNormalizeRemovesEveryLiteral: no literal, in any spelling or
// statement, survives normalization (nor does a comment).
func TestNormalizeRemovesEveryLiteral(t *testing.T) {
	n := NewNormalizer(64)
	for _, sql := range leakCorpus {
		for pass := 0; pass < 2; pass++ { // the second pass may hit the shape cache
			var scratch []byte
			q := n.Normalize(sql, &scratch)
			var texts []string
			for _, p := range q.Parts {
				texts = append(texts, p.SQL, string(p.fragment))
			}
			if q.Parts == nil {
				texts = append(texts, q.Unparsed.SQL, string(q.Unparsed.fragment))
			}
			for _, text := range texts {
				// sql_hash is an HMAC under a random key: its hex digits
				// spell "91234" now and then (a CI flake).
				text = hashField.ReplaceAllString(text, `"sql_hash":"…"`)
				if strings.Contains(text, seed) || strings.Contains(text, "91234") {
					t.Errorf("%q normalized to %q", sql, text)
				}
				if res, err := pg_query.Scan(text); err == nil {
					for _, tok := range res.Tokens {
						switch tok.Token {
						case pg_query.Token_SCONST, pg_query.Token_USCONST, pg_query.Token_ICONST, pg_query.Token_FCONST,
							pg_query.Token_BCONST, pg_query.Token_XCONST, pg_query.Token_SQL_COMMENT, pg_query.Token_C_COMMENT:
							t.Errorf("%q normalized to %q, which still holds %q", sql, text, text[tok.Start:tok.End])
						}
					}
				}
			}
		}
	}
}

// TestShapeCache: texts that differ only in their constants share one
// normalization, equal to what the full path gives each of them; texts
// the key lexer cannot read plainly get no key.
func TestShapeCache(t *testing.T) {
	same := [][2]string{
		{"SELECT abalance FROM pgbench_accounts WHERE aid = 1;", "SELECT abalance FROM pgbench_accounts WHERE aid = 99999;"},
		{"SELECT * FROM t WHERE a = 'x' AND b = 1.5e-3", "SELECT * FROM t WHERE a = 'it''s' AND b = 42"},
		{"INSERT INTO t1 (c2) VALUES (1), ('a')", "INSERT INTO t1 (c2) VALUES (22), ('bb')"},
		{"SELECT $1, t2.c3 FROM t2 WHERE x = 7", "SELECT $1, t2.c3 FROM t2 WHERE x = 8"},
		{"SELECT \"a 1\" FROM t WHERE b = 'x'; SELECT 2", "SELECT \"a 1\" FROM t WHERE b = 'yy'; SELECT 3"},
		{"SELECT interval '1 day'", "SELECT interval '2 hours'"},
	}
	fresh := func(sql string) []string {
		parts, ok := NewNormalizer(8).Split(sql)
		if !ok {
			t.Fatalf("%q does not parse", sql)
		}
		return parts
	}
	for _, p := range same {
		var b1, b2 []byte
		k1, ok1 := shapeKey(p[0], b1)
		k1 = append([]byte(nil), k1...)
		k2, ok2 := shapeKey(p[1], b2)
		if !ok1 || !ok2 || string(k1) != string(k2) {
			t.Errorf("%q and %q: keys %q (%v) and %q (%v)", p[0], p[1], k1, ok1, k2, ok2)
			continue
		}
		if strings.Join(fresh(p[0]), ";") != strings.Join(fresh(p[1]), ";") {
			t.Errorf("%q and %q normalize differently", p[0], p[1])
		}
		n := NewNormalizer(8)
		var scratch []byte
		q1, q2 := n.Normalize(p[0], &scratch), n.Normalize(p[1], &scratch)
		if q1 != q2 {
			t.Errorf("%q and %q did not share the cache entry", p[0], p[1])
		}
	}
	different := [][2]string{
		{"SELECT a FROM t WHERE b = 1", "SELECT a FROM t WHERE b = c"},
		{"SELECT a1 FROM t", "SELECT a2 FROM t"},
		{"SELECT 'a', 'b'", "SELECT 'a' || 'b'"},
		{"SELECT $1", "SELECT $2"},
	}
	for _, p := range different {
		k1, _ := shapeKey(p[0], nil)
		k1 = append([]byte(nil), k1...)
		k2, _ := shapeKey(p[1], nil)
		if string(k1) == string(k2) {
			t.Errorf("%q and %q share key %q", p[0], p[1], k1)
		}
	}
	for _, sql := range []string{"SELECT E'a'", "SELECT $$a$$", "SELECT 1 -- c", "SELECT /* c */ 1", "SELECT 'open", "SELECT U&'a'", "SELECT \"open"} {
		if _, ok := shapeKey(sql, nil); ok {
			t.Errorf("%q got a shape key", sql)
		}
	}
}

// FuzzNormalize: for any text, normalization does not panic and keeps no
// constant token; texts with equal shape keys normalize alike.
func FuzzNormalize(f *testing.F) {
	for _, s := range leakCorpus {
		f.Add(s, "7")
	}
	f.Fuzz(func(t *testing.T, sql, digits string) {
		if strings.IndexByte(sql, 0) >= 0 || !utf8.ValidString(sql) {
			return
		}
		n := NewNormalizer(8)
		var scratch []byte
		q := n.Normalize(sql, &scratch)
		// A variant with other numbers: if its shape key is the same, its
		// normalization must be too.
		if strings.Trim(digits, "0123456789") == "" && digits != "" {
			other := digitRuns.ReplaceAllString(sql, digits)
			k1, ok1 := shapeKey(sql, nil)
			k1 = append([]byte(nil), k1...)
			k2, ok2 := shapeKey(other, nil)
			if ok1 && ok2 && string(k1) == string(k2) {
				p1, okA := NewNormalizer(8).Split(sql)
				p2, okB := NewNormalizer(8).Split(other)
				if okA && okB && strings.Join(p1, ";") != strings.Join(p2, ";") {
					t.Fatalf("%q and %q share a shape key but normalize to %q and %q", sql, other, p1, p2)
				}
			}
		}
		for _, p := range q.Parts {
			res, err := pg_query.Scan(p.SQL)
			if err != nil {
				continue
			}
			for _, tok := range res.Tokens {
				switch tok.Token {
				case pg_query.Token_SCONST, pg_query.Token_USCONST, pg_query.Token_ICONST, pg_query.Token_FCONST,
					pg_query.Token_BCONST, pg_query.Token_XCONST:
					t.Fatalf("%q normalized to %q with a constant left", sql, p.SQL)
				}
			}
		}
	})
}

// FuzzAppendString: every string renders as valid JSON that reads back
// as the string (invalid UTF-8 as U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\x1f\x7f", "张伟\u2028\u2029", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q rendered as %s: %v", s, b, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); got != want && utf8.ValidString(s) {
			t.Fatalf("%q read back as %q", s, got)
		}
	})
}
