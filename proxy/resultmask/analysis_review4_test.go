package resultmask_test

import (
	"testing"
)

// TestReviewedRound4EndToEnd replays, through pgmantle against PostgreSQL,
// statements the fourth review found slipping past the analysis.
func TestReviewedRound4EndToEnd(t *testing.T) {
	addr, db, _, _ := analysisProxy(t)

	leaks := []struct{ name, role, sql string }{
		// A WITH RECURSIVE query rotating its columns: lineage needs one
		// pass per column to reach the last one; pgmantle makes two.
		{"recursive-rotation", "analyst", `WITH RECURSIVE t(a, b, c, d, n) AS (SELECT id_no, ''::char(18), ''::char(18), ''::char(18), 1 FROM bk.contacts UNION ALL SELECT d, a, b, c, n + 1 FROM t WHERE n < 4) SELECT d FROM t`},
		{"recursive-rotation-intern", "intern", `WITH RECURSIVE t(a, b, c, d, n) AS (SELECT mobile, ''::varchar(20), ''::varchar(20), ''::varchar(20), 1 FROM bk.contacts UNION ALL SELECT d, a, b, c, n + 1 FROM t WHERE n < 4) SELECT d FROM t`},
	}
	for _, c := range leaks {
		t.Run("leak/"+c.name, func(t *testing.T) {
			got, err := bypassRun(t, addr, db, c.role, nil, c.sql)
			t.Logf("received (err=%v):\n%s", err, got)
			if v, class := findSecret([]byte(got), nil); v != "" {
				t.Errorf("%s as %s: client received a %s value %q", c.sql, c.role, class, v)
			}
		})
	}
	t.Run("inference/recursive-rotation", func(t *testing.T) {
		const q = `WITH RECURSIVE t(a, b, c, d, n) AS (SELECT mobile, ''::varchar(20), ''::varchar(20), ''::varchar(20), 1 FROM bk.contacts UNION ALL SELECT d, a, b, c, n + 1 FROM t WHERE n < 4) SELECT count(*) FROM t WHERE d = `
		checkInference(t, addr, db, "analyst", q+`'13812345678'`, q+`'13800000000'`)
	})
}
