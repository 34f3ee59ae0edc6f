package catalog_test

import (
	"testing"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestSnapshotVersion: loads of an unchanged catalog share a Version,
// also after changes that leave what a snapshot holds alone (TRUNCATE,
// VACUUM FULL, ANALYZE, a temporary table, a new index); every change an
// analysis could depend on gives a new one. Not parallel: roles are
// the cluster's, and other tests create them.
func TestSnapshotVersion(t *testing.T) {
	db := newDB(t, `
CREATE TABLE people (id int, id_no text, note text);
CREATE VIEW v AS SELECT id, note FROM people;
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE ROLE ver_analyst;
CREATE ROLE ver_staff;
`)
	t.Cleanup(func() {
		c := pgtest.Cluster(t)
		c.Exec(pgtest.Context(t), "DROP ROLE IF EXISTS ver_analyst; DROP ROLE IF EXISTS ver_staff")
	})
	conn := superConn(t, db)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(pgtest.Context(t), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	v := load(t, db).Version
	if v == "" {
		t.Fatal("a loaded snapshot has no Version")
	}
	for _, same := range []string{
		"SELECT 1",
		"INSERT INTO people VALUES (1, '110101199003078515', 'x'); TRUNCATE people",
		"VACUUM FULL people",
		"ANALYZE people",
		"CREATE TEMP TABLE scratch (a int)",
		"CREATE INDEX ON people (id)",
	} {
		exec(same)
		if got := load(t, db).Version; got != v {
			t.Errorf("after %q the Version changed", same)
			v = got
		}
	}
	for _, changed := range []string{
		"CREATE OR REPLACE VIEW v AS SELECT id, id_no AS note FROM people",
		"ALTER TABLE people RENAME COLUMN note TO remark",
		"ALTER TABLE people ADD COLUMN extra int",
		"CREATE RULE r AS ON INSERT TO people DO INSTEAD NOTHING",
		"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 2'",
		"GRANT ver_staff TO ver_analyst",
		"CREATE SCHEMA other; CREATE TABLE other.people (id int)",
	} {
		exec(changed)
		got := load(t, db).Version
		if got == v {
			t.Errorf("after %q the Version did not change", changed)
		}
		v = got
	}
}
