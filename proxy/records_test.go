package proxy

import "testing"

func TestMayRedefine(t *testing.T) {
	for sql, want := range map[string]bool{
		"DEALLOCATE s; PREPARE s AS SELECT 1": true,
		"close c":                             true,
		"DO $$BEGIN END$$":                    true,
		"SELECT id FROM bk.contacts":          false,
		"SELECT prepared_at, closed FROM t":   false,
		"SELECT 1; declare c cursor for x":    true,
		"SELECT \"execute\" FROM t":           true, // conservative: quoted words count too
		"SELECT doc FROM documents":           false,
	} {
		if got := mayRedefine(sql); got != want {
			t.Errorf("%q: got %v, want %v", sql, got, want)
		}
	}
}
