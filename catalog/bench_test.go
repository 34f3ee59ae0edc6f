package catalog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// manyTablesSQL creates n tables of 10 columns each (with a dropped column
// and a view every tenth table), committing every 200 tables to keep the
// lock table small.
func manyTablesSQL(n int) string {
	return fmt.Sprintf(`
DO $$
BEGIN
	FOR i IN 1..%d LOOP
		EXECUTE format('CREATE TABLE t%%s (id bigint PRIMARY KEY, name text, id_no varchar(18), mobile varchar(11),
			amount numeric(12,2), created timestamptz, active boolean, note text, data jsonb, gone int, region int)', i);
		EXECUTE format('ALTER TABLE t%%s DROP COLUMN gone', i);
		IF i %% 10 = 0 THEN
			EXECUTE format('CREATE VIEW v%%s AS SELECT id, id_no AS ident, upper(name) AS name FROM t%%s', i, i);
		END IF;
		IF i %% 200 = 0 THEN
			COMMIT;
		END IF;
	END LOOP;
END $$`, n)
}

// TestLoadManyTables logs how long a snapshot of a database with 2,000
// tables of 10 columns (and 200 views) takes, over one connection and
// through a Manager (connection included).
func TestLoadManyTables(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 2,000 tables")
	}
	t.Parallel()
	const n = 2000
	db := newDB(t, manyTablesSQL(n))
	conn := superConn(t, db)
	ctx := pgtest.Context(t)

	var first, best time.Duration
	var s *catalog.Snapshot
	for i := range 5 {
		start := time.Now()
		var err error
		s, err = catalog.Load(ctx, conn, db)
		if err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		if i == 0 {
			first, best = d, d
		}
		best = min(best, d)
	}
	cols := 0
	for i := 1; i <= n; i++ {
		r := s.RelationByName("public", fmt.Sprintf("t%d", i))
		if r == nil || len(r.Columns) != 10 {
			t.Fatalf("t%d: %+v", i, r)
		}
		cols += len(r.Columns)
	}
	if got := originOf(t, s, "public", "v2000", "ident"); got != "public.t2000.id_no" {
		t.Errorf("v2000.ident origin %q", got)
	}
	if got := len(s.Columns("public", "t*", "*")); got != cols {
		t.Errorf("Columns: %d, want %d", got, cols)
	}

	m, _ := newManager(t, -1)
	start := time.Now()
	if _, err := m.Get(ctx, db); err != nil {
		t.Fatal(err)
	}
	viaManager := time.Since(start)
	t.Logf("load of %d tables x 10 columns (+%d views, + pg_catalog): first %v, best of 5 %v; Manager first Get (connect + load) %v",
		n, n/10, first.Round(time.Millisecond), best.Round(time.Millisecond), viaManager.Round(time.Millisecond))
}

// BenchmarkLoad measures Load over an open connection for a database of
// 2,000 tables of 10 columns and 200 views.
func BenchmarkLoad(b *testing.B) {
	db := newDB(b, manyTablesSQL(2000))
	conn := superConn(b, db)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := catalog.Load(ctx, conn, db); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOrigin measures resolving a view column through a partition
// hierarchy, the per-column cost on a RowDescription.
func BenchmarkOrigin(b *testing.B) {
	db := newDB(b, `
CREATE TABLE orders (id int, gone int, id_no text, created date NOT NULL) PARTITION BY RANGE (created);
ALTER TABLE orders DROP COLUMN gone;
CREATE TABLE orders_2024 (created date NOT NULL, id_no text, id int);
ALTER TABLE orders ATTACH PARTITION orders_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE VIEW v1 AS SELECT id_no AS x FROM orders_2024;
CREATE VIEW v2 AS SELECT x FROM v1;
`)
	s := load(b, db)
	v2 := s.RelationByName("public", "v2")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := s.Origin(v2.OID, 1); !ok {
			b.Fatal("no origin")
		}
	}
}
