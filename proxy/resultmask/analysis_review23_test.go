package resultmask_test

// Red-team round 23: a systematic pass over the pg_catalog functions (and
// catalog relations) a restricted role may use by default. Two findings:
//
//   - TestAnalysisReview23ToastLengthLeak: pg_column_size (or
//     pg_column_compression) of a clean column, read after a rolled-back
//     UPDATE that pads it across the TOAST threshold, gave the byte
//     length of the row's protected values exactly (a masked address, a
//     hashed city); closed (both functions denied), the test failed
//     before;
//   - protected values written into the schema (partial index
//     predicates, view and rule definitions, CHECK constraints, comments,
//     function bodies, the bounds of a table LIST-partitioned by a
//     protected column) are read in clear through the pg_get_*def
//     functions and the catalogs: open
//     (analysis_review23_open_test.go, build tag openleaks).
//
// TestAnalysisReview23Defended keeps the probes pgmantle stopped.

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

const rt23Schema = `
CREATE SCHEMA r23;
CREATE TABLE r23.addresses (id int PRIMARY KEY, address text NOT NULL, tag text NOT NULL, note text NOT NULL);
INSERT INTO r23.addresses VALUES (1, '上海市浦东新区世纪大道1000弄20号', '', ''), (2, '上海市浦东新区张江路1号', '', '');
CREATE TABLE r23.people (id int PRIMARY KEY, id_no char(18), name text, city text, salary numeric(12,2), note text,
  CONSTRAINT people_ceo_pinned CHECK (id <> 1 OR id_no = '310105198807158033'));
INSERT INTO r23.people VALUES
  (1, '310105198807158033', '张伟明', 'shanghai', 12345.67, 'a'),
  (2, '110101198001011232', '李秀英', 'beijing', 18765.43, 'b'),
  (3, '310105199203041122', '王建国', 'shanghai', 9876.54, 'c');
CREATE INDEX people_ceo ON r23.people (id) WHERE id_no = '310105198807158033';
CREATE VIEW r23.vip AS SELECT id, note FROM r23.people WHERE name IN ('张伟明', '李秀英');
COMMENT ON COLUMN r23.people.id_no IS 'national ID number, e.g. 110101198001011232 (李秀英)';
CREATE FUNCTION r23.is_ceo(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT $1 = '310105198807158033' $$;
-- branches listed by their (hashed) city; the partitions are named neutrally
CREATE TABLE r23.branches (id int, city text NOT NULL, tag text NOT NULL DEFAULT '', note text NOT NULL DEFAULT '') PARTITION BY LIST (city);
CREATE TABLE r23.branches_a PARTITION OF r23.branches FOR VALUES IN ('shanghai');
CREATE TABLE r23.branches_b PARTITION OF r23.branches FOR VALUES IN ('beijing');
INSERT INTO r23.branches (id, city) VALUES (1, 'shanghai'), (2, 'beijing');
CREATE TABLE r23.offices (id int PRIMARY KEY, city text NOT NULL, tag text NOT NULL DEFAULT '', note text NOT NULL DEFAULT '');
INSERT INTO r23.offices (id, city) VALUES (1, 'shanghai'), (2, 'beijing');
CREATE TABLE r23.scratch (id int, note text);
INSERT INTO r23.scratch VALUES (1, 'x');
GRANT USAGE ON SCHEMA r23 TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA r23 TO PUBLIC;
`

const rt23Policy = `
classes:
  cn_id: [r23.people.id_no]
  person_name: [r23.people.name]
  address: [r23.addresses.address]
  salary: [r23.people.salary]
  city: [r23.people.city, r23.branches.city, r23.offices.city]
roles:
  analyst:
    rules:
      cn_id: tokenize
      person_name: {mask: cn_name}
      address: {mask: address, level: district}
      salary: {mask: round, to: 1000}
      city: hash
`

func rt23Proxy(t *testing.T) (addr, db string) { return rtProxy(t, rt23Schema, rt23Policy) }

// rt23One runs sql on conn and returns the first column of the last
// result's first row ("" for none).
func rt23One(t *testing.T, conn *pgconn.PgConn, sql string) (string, error) {
	t.Helper()
	res, err := conn.Exec(pgtest.Context(t), sql).ReadAll()
	if err != nil {
		return "", err
	}
	for i := len(res) - 1; i >= 0; i-- {
		if len(res[i].Rows) > 0 {
			return string(res[i].Rows[0][0]), nil
		}
	}
	return "", nil
}

// rt23ToastLength measures, through the TOAST threshold, the byte length
// of the one protected text column that comes between the int id and the
// clean tag and note of row id of table (id int, protected text, tag
// text, note text). It runs as the analyst on conn, in transactions it
// rolls back:
//
//	BEGIN
//	UPDATE table SET tag = repeat('t', t), note = repeat('p', n) WHERE id = k
//	SELECT pg_column_size(note) FROM table WHERE id = k   -- n+4 inline, ~30 compressed
//	ROLLBACK
//
// PostgreSQL compresses the row's compressible values when the whole row
// (its protected values included) exceeds TOAST_TUPLE_THRESHOLD (2032
// bytes on 8 kB pages). The least n at which note comes back compressed
// is 2029 less the row's bytes before note (24 of header, 4 of id, 1+len
// of the protected value and 1+t of tag), rounded up to 4 (note's
// alignment); growing the clean tag one byte at a time finds where the
// rounding steps. Together: the protected value's byte length, exactly.
func rt23ToastLength(t *testing.T, conn *pgconn.PgConn, table string, id int) (int, error) {
	t.Helper()
	compressed := func(tag, n int) (bool, error) {
		if _, err := rt23One(t, conn, "BEGIN"); err != nil {
			return false, err
		}
		defer rt23One(t, conn, "ROLLBACK")
		if _, err := rt23One(t, conn, fmt.Sprintf("UPDATE %s SET tag = repeat('t', %d), note = repeat('p', %d) WHERE id = %d", table, tag, n, id)); err != nil {
			return false, err
		}
		size, err := rt23One(t, conn, fmt.Sprintf("SELECT pg_column_size(note) FROM %s WHERE id = %d", table, id))
		if err != nil {
			return false, err
		}
		s, err := strconv.Atoi(size)
		if err != nil {
			return false, fmt.Errorf("pg_column_size: %q", size)
		}
		return s < n, nil
	}
	lo, hi := 1000, 2100 // note is compressed at hi, not at lo
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		c, err := compressed(0, mid)
		if err != nil {
			return 0, err
		}
		if c {
			hi = mid
		} else {
			lo = mid
		}
	}
	aligned := 2029 - hi // align4(24 + 4 + 1 + len + 1)
	for tag := 1; tag <= 4; tag++ {
		c, err := compressed(tag, hi-1)
		if err != nil {
			return 0, err
		}
		if c {
			t.Logf("%s row %d: note compressed from %d bytes of padding; with a tag of %d byte(s), from %d", table, id, hi, tag, hi-1)
			return aligned - tag + 1 - 30, nil
		}
	}
	return 0, fmt.Errorf("%s row %d: no step within 4 bytes of tag", table, id)
}

// TestAnalysisReview23ToastLengthLeak: pg_column_size (and
// pg_column_compression) of a clean column is allowed, and the analyst
// may UPDATE clean columns (rolled back at once): rt23ToastLength then
// measures the byte length of the protected values of the row. The masks
// hide it (both addresses show as 上海市浦东新区****, every city as a
// 32-digit hash); the toaster gives 45 and 34 bytes, and 8 and 7 bytes.
// The partition bounds of r23.branches, partitioned by city
// (pg_get_expr(relpartbound), TestAnalysisReview23CatalogLiteralLeak),
// name the two cities: the 8-byte one is shanghai, so office 1's hashed
// city is shanghai, and so is every row of r23.people with the same hash
// (one key per class). No WAL position, relation size or ctid is
// needed: PostgreSQL itself writes the row's size into how it stores the
// clean column. Safe: deny pg_column_size and pg_column_compression to
// restricted roles, or refuse them on any column of a relation that holds
// protected columns (the stored form of one column depends on the whole
// row).
func TestAnalysisReview23ToastLengthLeak(t *testing.T) {
	addr, db := rt23Proxy(t)
	for _, c := range []struct {
		table, show string
		real        []string
	}{
		{"r23.addresses", "SELECT id, address FROM r23.addresses ORDER BY id", []string{"上海市浦东新区世纪大道1000弄20号", "上海市浦东新区张江路1号"}},
		{"r23.offices", "SELECT id, city FROM r23.offices ORDER BY id", []string{"shanghai", "beijing"}},
	} {
		t.Run(c.table, func(t *testing.T) {
			masked, refused := rt17Outcome(t, addr, db, c.show)
			t.Logf("the analyst's view (refused=%v):\n%s", refused, masked)
			conn := rt16Connect(t, addr, db, "analyst")
			var got []int
			for i := range c.real {
				l, err := rt23ToastLength(t, conn, c.table, i+1)
				if err != nil {
					t.Logf("refused or failed: %v", err)
					if rt16IsRefusal(err) {
						return
					}
					t.Fatalf("unexpected: %v", err)
				}
				got = append(got, l)
			}
			leaked := true
			for i, v := range c.real {
				t.Logf("row %d: the toaster says %d bytes (really %d: %s)", i+1, got[i], len(v), v)
				leaked = leaked && got[i] == len(v)
			}
			for _, n := range []int{100, 2100} {
				got, _ := rtRunAll(t, conn, "BEGIN", fmt.Sprintf("UPDATE %s SET note = repeat('p', %d) WHERE id = 1", c.table, n),
					fmt.Sprintf("SELECT pg_column_compression(note), pg_column_size(note) FROM %s WHERE id = 1", c.table), "ROLLBACK")
				t.Logf("the same through pg_column_compression, %d bytes of padding:\n%s", n, got)
			}
			if leaked {
				t.Errorf("LEAK: the TOAST threshold (pg_column_size of the clean note after padding it in a rolled-back UPDATE) measures the byte length of the protected values of %s exactly: %v", c.table, got)
			}
		})
	}
}

// TestAnalysisReview23Defended keeps the probes of this round that
// pgmantle stopped: the side channels denied in earlier rounds, the
// functions behind refused catalog views, protected columns given to
// storage functions, partitions by a protected column read directly or
// told apart by tableoid.
func TestAnalysisReview23Defended(t *testing.T) {
	addr, db := rt23Proxy(t)
	rtAllRefused(t, addr, db, []string{
		"SELECT pg_current_wal_insert_lsn()",
		"SELECT pg_walfile_name(pg_current_wal_lsn())",
		"SELECT pg_relation_size('r23.addresses')",
		"SELECT pg_table_size('r23.addresses')",
		"SELECT currtid2('r23.addresses', '(0,1)')",
		"SELECT query_to_xml('SELECT address FROM r23.addresses', true, true, '')",
		"SELECT pg_stat_get_live_tuples('r23.branches_a'::regclass)",
		"SELECT * FROM pg_stat_user_tables",
		"SELECT * FROM pg_statio_user_tables",
		"SELECT * FROM pg_stats WHERE schemaname = 'r23'",
		"SELECT * FROM pg_prepared_xacts",
		"SELECT * FROM pg_locks",
		"SELECT * FROM pg_lock_status()",
		"SELECT * FROM pg_settings",
		"SELECT * FROM pg_show_all_settings()",
		"SELECT * FROM pg_cursor()",
		"SELECT current_query()",
		"SELECT pg_blocking_pids(pg_backend_pid())",
		"SELECT pg_notification_queue_usage()",
		"SELECT pg_control_checkpoint()",
		"SELECT ts_stat('SELECT to_tsvector(address) FROM r23.addresses')",
		// storage functions of protected columns and whole rows
		"SELECT pg_column_size(address) FROM r23.addresses",
		"SELECT pg_column_compression(address) FROM r23.addresses",
		"SELECT pg_column_size(a) FROM r23.addresses a",
		"SELECT pg_column_size(a.*) FROM r23.addresses a",
		"SELECT ctid, id FROM r23.addresses",
		// partitions of a table partitioned by a protected column
		"SELECT id FROM r23.branches_a",
		"SELECT id, tableoid::regclass FROM r23.branches",
		"SELECT id FROM r23.branches WHERE tableoid = 'r23.branches_a'::regclass",
		"SELECT id, city FROM r23.branches ORDER BY id",
		"EXPLAIN SELECT id FROM r23.people WHERE id_no = '394722208503031838'",
	})
}
