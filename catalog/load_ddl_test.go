package catalog_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/catalog"
)

// TestLoadUnderConcurrentDDL: loads succeed while another session
// creates and drops views, functions, domains, types, partitioned tables
// and policies. Catalog functions the load calls read the live catalogs,
// not the load's snapshot: before the retry (and the NULL-safe function
// identity), about half the loads failed ("could not open relation with
// OID ..." from pg_get_viewdef, a NULL pg_get_function_identity_arguments
// of a dropped function), and a reload racing DDL left restricted
// statements refused until the next check.
func TestLoadUnderConcurrentDDL(t *testing.T) {
	db := newDB(t, `CREATE SCHEMA s; CREATE TABLE s.base (id int, v text);`)
	ddl := superConn(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stop atomic.Bool
	done := make(chan struct{})
	var rounds atomic.Int64
	go func() {
		defer close(done)
		for i := 0; !stop.Load(); i++ {
			for _, q := range []string{
				fmt.Sprintf(`CREATE TYPE s.ty%d AS (a int)`, i),
				fmt.Sprintf(`CREATE DOMAIN s.dom%d AS int CHECK (VALUE > 0)`, i),
				fmt.Sprintf(`CREATE FUNCTION s.f%d(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x'`, i),
				fmt.Sprintf(`CREATE TABLE s.t%d (id int PRIMARY KEY, d s.dom%d, c s.ty%d, g int GENERATED ALWAYS AS (s.f%d(id)) STORED, CHECK (s.f%d(id) > 0))`, i, i, i, i, i),
				fmt.Sprintf(`CREATE VIEW s.v%d AS SELECT id, d FROM s.t%d WHERE s.f%d(id) > 0`, i, i, i),
				fmt.Sprintf(`CREATE POLICY p%d ON s.t%d USING (s.f%d(id) > 0)`, i, i, i),
				fmt.Sprintf(`CREATE TABLE s.p%d (id int, k int) PARTITION BY LIST (k)`, i),
				fmt.Sprintf(`CREATE TABLE s.p%d_1 PARTITION OF s.p%d FOR VALUES IN (1)`, i, i),
				fmt.Sprintf(`DROP VIEW s.v%d`, i),
				fmt.Sprintf(`DROP TABLE s.t%d, s.p%d`, i, i),
				fmt.Sprintf(`DROP FUNCTION s.f%d(int)`, i),
				fmt.Sprintf(`DROP DOMAIN s.dom%d`, i),
				fmt.Sprintf(`DROP TYPE s.ty%d`, i),
			} {
				if _, err := ddl.Exec(ctx, q); err != nil {
					if !stop.Load() {
						t.Errorf("%s: %v", q, err)
					}
					return
				}
			}
			rounds.Add(1)
		}
	}()
	conn := superConn(t, db)
	const loads = 60
	failed := 0
	for range loads {
		if _, err := catalog.Load(ctx, conn, db); err != nil {
			failed++
			t.Errorf("load while DDL runs: %v", err)
		}
	}
	stop.Store(true)
	<-done
	t.Logf("%d loads (%d failed) during %d rounds of DDL", loads, failed, rounds.Load())
	if rounds.Load() == 0 {
		t.Errorf("no round of DDL completed while the loads ran: the test exercised nothing")
	}
}
