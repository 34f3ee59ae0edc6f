package resultmask_test

// Red-team round 23: a systematic pass over the pg_catalog functions (and
// catalog relations) a restricted role may use by default.
// TestAnalysisReview23FunctionSurface lists what parser.DeniedFunction
// leaves allowed and calls the argument-less volatile/stable ones as the
// analyst (informative, passes). Two findings fail while open:
//
//   - TestAnalysisReview23ToastLengthLeak: pg_column_size (or
//     pg_column_compression) of a clean column, read after a rolled-back
//     UPDATE that pads it across the TOAST threshold, gives the byte length
//     of the row's protected values exactly (a masked address, a hashed
//     city);
//   - TestAnalysisReview23CatalogLiteralLeak: protected values written
//     into the schema (partial index predicates, view and rule
//     definitions, CHECK constraints, comments, function bodies, and the
//     bounds of a table LIST-partitioned by a protected column) are read in
//     clear through the pg_get_*def functions and the catalogs.
//
// TestAnalysisReview23Defended keeps the probes pgmantle stopped.

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/parser"
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

// TestAnalysisReview23FunctionSurface lists the pg_catalog functions
// parser.DeniedFunction leaves allowed (informative: it fails only if the
// listing itself fails), and calls every allowed volatile or stable
// function without arguments through pgmantle as the analyst.
func TestAnalysisReview23FunctionSurface(t *testing.T) {
	addr, db := rt23Proxy(t)
	owner := rt11Owner(t, db)
	ctx := pgtest.Context(t)
	rows, err := owner.Query(ctx, `SELECT proname, pg_get_function_identity_arguments(oid), provolatile::text, proretset, pronargs
		FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace AND prokind IN ('f','a','w') ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	type fn struct {
		name, args, vol string
		set             bool
		nargs           int16
	}
	var all []fn
	for rows.Next() {
		var f fn
		if err := rows.Scan(&f.name, &f.args, &f.vol, &f.set, &f.nargs); err != nil {
			t.Fatal(err)
		}
		all = append(all, f)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	denied := map[string]bool{}
	byVol := map[string][]string{}
	var zero []fn
	seen := map[string]bool{}
	for _, f := range all {
		if parser.DeniedFunction(f.name) {
			denied[f.name] = true
			continue
		}
		if f.vol == "i" {
			continue
		}
		byVol[f.vol] = append(byVol[f.vol], f.name+"("+f.args+")")
		if f.nargs == 0 && !seen[f.name] {
			seen[f.name] = true
			zero = append(zero, f)
		}
	}
	t.Logf("%d pg_catalog functions; %d names denied by parser.DeniedFunction", len(all), len(denied))
	for _, v := range []string{"v", "s"} {
		t.Logf("allowed, provolatile=%s (%d):\n  %s", v, len(byVol[v]), strings.Join(byVol[v], "\n  "))
	}
	conn := rt16Connect(t, addr, db, "analyst")
	var out []string
	for _, f := range zero {
		sql := "SELECT pg_catalog." + f.name + "()"
		if f.set {
			sql = "SELECT * FROM pg_catalog." + f.name + "() LIMIT 3"
		}
		got, errs := rtRunAll(t, conn, sql)
		verdict := "answered"
		switch {
		case rt16IsRefusal(errs[0]):
			verdict = "REFUSED by pgmantle"
		case errs[0] != nil:
			verdict = "PostgreSQL error"
		}
		got = strings.ReplaceAll(strings.TrimSpace(got), "\n", " ; ")
		if len(got) > 160 {
			got = got[:160] + "..."
		}
		out = append(out, fmt.Sprintf("%-40s %-20s %s", f.name+"()", verdict, got))
	}
	sort.Strings(out)
	t.Logf("allowed zero-argument volatile/stable functions as the analyst (%d):\n%s", len(out), strings.Join(out, "\n"))
	// Functions with arguments looked at this round that pgmantle lets
	// through, with what they answered (no protected value seen, except
	// the definitions of TestAnalysisReview23CatalogLiteralLeak and the
	// storage functions of TestAnalysisReview23ToastLengthLeak).
	for _, sql := range []string{
		"SELECT * FROM pg_prepared_xact()", // the function behind the refused pg_prepared_xacts (max_prepared_transactions = 0 here)
		"SELECT pg_current_snapshot(), txid_current_snapshot(), pg_xact_status(pg_current_xact_id())",
		"SELECT id, xmin, xmax FROM r23.people ORDER BY id",
		"SELECT pg_xact_commit_timestamp(xmin) FROM r23.scratch", // track_commit_timestamp = off here
		"SELECT * FROM pg_last_committed_xact()",
		"SELECT pg_get_multixact_members('1'::xid)",
		"SELECT pg_relation_filepath('r23.people'), pg_relation_filenode('r23.people'), pg_filenode_relation(0, pg_relation_filenode('r23.people'))",
		"SELECT * FROM pg_partition_tree('r23.branches')",
		"SELECT pg_partition_root('r23.branches_a'), pg_get_partkeydef('r23.branches'::regclass)",
		"SELECT brin_summarize_new_values('r23.people_ceo'::regclass)",
		"SELECT gin_clean_pending_list('r23.people_ceo'::regclass)",
		"SELECT reltuples, relpages, relallvisible FROM pg_class WHERE relname = 'addresses'",
		"SELECT * FROM pg_sequences",
		"SELECT pg_get_serial_sequence('r23.people', 'id')",
		"SELECT current_setting('track_commit_timestamp'), current_setting('max_prepared_transactions')",
		"SELECT pg_column_compression(note), pg_column_size(note) FROM r23.addresses ORDER BY id",
		"SELECT has_column_privilege('r23.people', 'id_no', 'SELECT'), row_security_active('r23.people')",
		"SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend WHERE refobjid = 'r23.people'::regclass LIMIT 3",
		"SELECT * FROM pg_get_replication_slots()",
		"SELECT * FROM pg_get_shmem_allocations() LIMIT 1",
		"SELECT * FROM pg_hba_file_rules() LIMIT 1",
		"SELECT * FROM pg_config() LIMIT 1",
		"SELECT pg_nextoid('pg_class', 'oid', 'pg_class_oid_index')",
	} {
		got, errs := rtRunAll(t, conn, sql)
		t.Logf("%s\n  -> err=%v\n%s", sql, errs[0], got)
	}
}

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

// TestAnalysisReview23CatalogLiteralLeak: catalog text is readable by
// every role, through pgmantle too: the definition functions (pg_get_*def,
// pg_get_expr, col_description) are allowed built-ins and the catalogs
// behind them (pg_indexes, pg_views, pg_rewrite, pg_constraint, pg_class,
// pg_description, pg_proc) are not refused relations. Where a DBA wrote
// a protected value into the schema - a partial index for one person, a
// view of named people, a CHECK pinning a row's ID number, a comment
// giving an example, a function comparing with an ID number - and where
// PostgreSQL requires it, in the bounds of a table LIST-partitioned by a
// protected column, the analyst reads it in clear while the column shows
// tokens, masks and hashes. The schema is rt23Schema; nothing the analyst
// sends is detokenized (DDL is refused). Safe: refuse, for restricted
// roles, the functions that print stored expressions and texts
// (pg_get_viewdef, pg_get_ruledef, pg_get_indexdef, pg_get_constraintdef,
// pg_get_expr, pg_get_partition_constraintdef, pg_get_triggerdef,
// pg_get_functiondef, pg_get_function_sqlbody, pg_get_statisticsobjdef*,
// col_description, obj_description, shobj_description) and the catalog
// columns holding them (pg_views/pg_matviews.definition,
// pg_indexes.indexdef, pg_rules, pg_policies, pg_rewrite.ev_action/ev_qual,
// pg_constraint.conbin, pg_index.indpred/indexprs, pg_attrdef.adbin,
// pg_class.relpartbound, pg_trigger.tgqual, pg_policy.polqual/polwithcheck,
// pg_proc.prosrc/prosqlbody, pg_description, pg_shdescription,
// pg_statistic_ext.stxexprs, information_schema's definition columns);
// or, narrower, refuse them for the objects whose expressions compare a
// protected column with a constant (the catalog loader parses view
// definitions already) and say in the README that comments and function
// bodies are not protected.
func TestAnalysisReview23CatalogLiteralLeak(t *testing.T) {
	addr, db := rt23Proxy(t)
	view, _ := rt17Outcome(t, addr, db, "SELECT id, id_no, name, city FROM r23.people ORDER BY id")
	t.Logf("the analyst's view of r23.people:\n%s", view)
	secrets := []string{"310105198807158033", "110101198001011232", "张伟明", "李秀英", "shanghai", "beijing"}
	for _, c := range []struct{ name, sql string }{
		{"pg_get_indexdef", "SELECT pg_get_indexdef('r23.people_ceo'::regclass)"},
		{"pg_indexes", "SELECT indexdef FROM pg_indexes WHERE schemaname = 'r23'"},
		{"pg_get_viewdef", "SELECT pg_get_viewdef('r23.vip'::regclass)"},
		{"pg_views", "SELECT definition FROM pg_views WHERE schemaname = 'r23'"},
		{"pg_get_ruledef", "SELECT pg_get_ruledef(oid) FROM pg_rewrite WHERE ev_class = 'r23.vip'::regclass"},
		{"pg_get_constraintdef", "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'r23.people'::regclass"},
		{"col_description", "SELECT col_description('r23.people'::regclass, 2)"},
		{"pg_description", "SELECT description FROM pg_description WHERE objoid = 'r23.people'::regclass"},
		{"pg_proc.prosrc", "SELECT prosrc FROM pg_proc WHERE proname = 'is_ceo'"},
		{"pg_get_functiondef", "SELECT pg_get_functiondef('r23.is_ceo'::regproc)"},
		{"partition-bounds", "SELECT relname, pg_get_expr(relpartbound, oid) FROM pg_class WHERE relispartition AND relnamespace = 'r23'::regnamespace ORDER BY 1"},
		{"pg_get_partition_constraintdef", "SELECT pg_get_partition_constraintdef('r23.branches_a'::regclass)"},
		{"relpartbound-node", "SELECT relpartbound FROM pg_class WHERE relname = 'branches_a'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := rt16Run(t, addr, db, "analyst", c.sql)
			t.Logf("%s\n  -> err=%v\n%s", c.sql, err, got)
			got += rt23NodeBytes(got)
			for _, v := range secrets {
				if strings.Contains(got, v) {
					t.Errorf("LEAK: %s: the analyst read the protected value %q in clear in catalog text", c.name, v)
				}
			}
		})
	}
}

// rt23NodeBytes decodes the constants of pg_node_tree text (":constvalue
// 12 [ 48 0 0 0 115 104 ... ]") into the bytes they hold.
func rt23NodeBytes(s string) string {
	var b strings.Builder
	for _, m := range regexp.MustCompile(`:constvalue \d+ \[([ 0-9-]*)\]`).FindAllStringSubmatch(s, -1) {
		for _, f := range strings.Fields(m[1]) {
			if n, err := strconv.Atoi(f); err == nil {
				b.WriteByte(byte(n))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
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
