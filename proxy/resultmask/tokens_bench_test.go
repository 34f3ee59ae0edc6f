package resultmask_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// BenchmarkTokenizedSelect compares, in one run, selects of 10,000
// resident ID numbers through pgmantle as a role that sees them tokenized
// (FF1) and as one that sees them partially masked, with the unrestricted
// role (relayed untouched) for reference. "cold" reads a new range of
// rows each iteration (every token computed: a scan of values never seen
// before); "warm" repeats one range (tokens from the token cache: a
// repeated report). Issue target: tokenized at least 0.8x the partial
// mask's throughput.
//
//	go test ./proxy/resultmask -run XXX -bench TokenizedSelect -benchtime 40x
func BenchmarkTokenizedSelect(b *testing.B) {
	const (
		rows  = 10000
		total = 500000
	)
	// Realistic IDs: region, a real birth date, a sequence number.
	data := fmt.Sprintf(`INSERT INTO t.people (id, id_no)
		SELECT g, '3101' || lpad(((g / 20000) %% 100)::text, 2, '0')
			|| to_char(date '1950-01-01' + (g %% 20000), 'YYYYMMDD') || lpad((g %% 1000)::text, 3, '0') || (g %% 10)::text
		FROM generate_series(1, %d) g; ANALYZE t.people`, total)
	db := newDatabase(b, tokenSchema, data)
	pf := filepath.Join(b.TempDir(), "policy.yaml")
	os.WriteFile(pf, []byte(`
classes:
  cn_id: [t.people.id_no]
roles:
  bookkeeper: {unrestricted: true}
  analyst: {rules: {cn_id: tokenize}}
  auditor: {rules: {cn_id: {mask: partial, keep_first: 6, keep_last: 4}}}
`), 0o600)
	addr, _ := startProxy(b, db, pf)
	for _, c := range []struct {
		name, role string
		cold       bool
	}{
		{"tokenize-cold", "analyst", true}, {"partial-cold", "auditor", true},
		{"tokenize-warm", "analyst", false}, {"partial-warm", "auditor", false},
		{"unrestricted", "bookkeeper", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg, err := pgx.ParseConfig("postgres://" + c.role + ":" + password + "@" + addr + "/" + db + "?sslmode=disable")
			if err != nil {
				b.Fatal(err)
			}
			cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
			conn, err := pgx.ConnectConfig(pgtest.Context(b), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(pgtest.Context(b))
			// warm the cache (and PostgreSQL's) for the warm runs
			conn.PgConn().Exec(pgtest.Context(b), "SELECT id_no FROM t.people WHERE id <= 10000").ReadAll()
			i := 0
			b.ResetTimer()
			for b.Loop() {
				lo := 0
				if c.cold {
					i++
					lo = (i % (total / rows)) * rows
				}
				sql := fmt.Sprintf("SELECT id_no FROM t.people WHERE id > %d AND id <= %d", lo, lo+rows)
				res, err := conn.PgConn().Exec(pgtest.Context(b), sql).ReadAll()
				if err != nil || len(res[0].Rows) != rows {
					b.Fatalf("%v", err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
