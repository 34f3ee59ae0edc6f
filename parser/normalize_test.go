package parser

import "testing"

func TestNormalizeKey(t *testing.T) {
	same := [][2]string{
		{"SELECT id FROM t WHERE id = 1", "SELECT id FROM t WHERE id = 42"},
		{"SELECT * FROM t WHERE name = 'a'", "SELECT * FROM t WHERE name = '张伟''s'"},
		{"SELECT 1.5e3, 'x'", "SELECT 7, 'yy'"},
		{`SELECT "Name" FROM t WHERE x IN ('a', 'b') AND y = $1`, `SELECT "Name" FROM t WHERE x IN ('c', 'd') AND y = $1`},
	}
	for _, p := range same {
		a, okA := normalizeKey(p[0])
		b, okB := normalizeKey(p[1])
		if !okA || !okB || a != b {
			t.Errorf("%q and %q: keys %q (%v) and %q (%v), want equal", p[0], p[1], a, okA, b, okB)
		}
	}
	different := [][2]string{
		{"SELECT 1", "SELECT '1'"},
		{"SELECT id FROM t WHERE id = 1", "SELECT id FROM t WHERE id = $1"},
		{"SELECT a FROM t WHERE a = 'x'", "SELECT b FROM t WHERE a = 'x'"},
		{"SELECT a FROM t WHERE a IN ('x')", "SELECT a FROM t WHERE a IN ('x', 'y')"},
	}
	for _, p := range different {
		a, _ := normalizeKey(p[0])
		b, _ := normalizeKey(p[1])
		if a == b {
			t.Errorf("%q and %q share key %q", p[0], p[1], a)
		}
	}
	for _, sql := range []string{
		`SELECT E'\' OR 1=1'`, `SELECT 'a\'`, "SELECT 'a' 'b'", "SELECT 'a'\n'b'", "SELECT $$x$$", "SELECT $q$x$q$",
		"SELECT 1 -- c", "SELECT /* c */ 1", `SELECT U&'\0041'`, "SELECT B'101'", "SELECT X'ff'", "SELECT N'x'",
		"SELECT 0x1F", "SELECT 1_000", "SELECT .5", "SELECT 1.2.3", "SELECT 名前 FROM t", `SELECT "a""b"`, "SELECT 'unterminated",
		"SELECT 1e", "SELECT 12abc",
	} {
		if k, ok := normalizeKey(sql); ok {
			t.Errorf("%q normalized to %q, want refused", sql, k)
		}
	}
}
