package resultmask_test

// Red-team round 20: what a restricted session learns from PostgreSQL's
// side channels rather than from the values it is sent: the per-table
// statistics counters of its own transaction (pg_stat_xact_user_tables)
// and the physical position of the rows it updates (RETURNING ctid) tell
// which partition, or which inheritance child, a row lives in - what
// round 16 refused tableoid for; and the client_encoding conversion
// PostgreSQL applies to every text value before pgmantle masks it fails
// (22P05) or succeeds according to the characters of the real value.
// Both findings are closed (each ...Leak test failed before its fix):
// restricted roles may not read the statistics views and functions
// (pg_stat*, parser.refusedRelation) nor relation sizes; ctid counts as
// computed from the table's protected columns and row order; masked
// text is refused in a client encoding that lacks characters
// (resultmask.holdsEveryCharacter: UTF8 and GB18030 hold them all).
// TestAnalysisReview20Defended keeps the probes pgmantle stopped when the
// round was run.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// rt20Schema: people partitioned by the region of their ID number (rows
// inserted alternating between two regions), pay split by hand into a
// child for amounts from 12200 (as in round 19), salaries whose employees'
// names mask alike (王建国, 王建明 and 王建堃 all show as 王**), and
// clients whose names are tokenized.
const rt20Schema = `
CREATE SCHEMA r20;
CREATE TABLE r20.people (id int, id_no char(18) NOT NULL, note text) PARTITION BY LIST (left(id_no, 6));
CREATE TABLE r20.people_sh PARTITION OF r20.people FOR VALUES IN ('310105');
CREATE TABLE r20.people_bj PARTITION OF r20.people FOR VALUES IN ('110101');
INSERT INTO r20.people VALUES (1, '310105198807158033', 'a');
INSERT INTO r20.people VALUES (2, '110101198001011232', 'b');
INSERT INTO r20.people VALUES (3, '310105199203041122', 'c');
INSERT INTO r20.people VALUES (4, '110101197509112260', 'd');
INSERT INTO r20.people VALUES (5, '310105196601010011', 'e');
INSERT INTO r20.people VALUES (6, '110101199912310022', 'f');
-- Citizens hash-partitioned by the whole ID number.
CREATE TABLE r20.citizens (id int, id_no char(18) NOT NULL, note text) PARTITION BY HASH (id_no);
CREATE TABLE r20.citizens_0 PARTITION OF r20.citizens FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE r20.citizens_1 PARTITION OF r20.citizens FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE r20.citizens_2 PARTITION OF r20.citizens FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE r20.citizens_3 PARTITION OF r20.citizens FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO r20.citizens VALUES (1, '310105198807158033', 'a'), (2, '110101198001011232', 'b');
CREATE TABLE r20.pay (id int, amount numeric(12,2) NOT NULL, note text);
CREATE TABLE r20.pay_high (CHECK (amount >= 12200)) INHERITS (r20.pay);
INSERT INTO r20.pay_high VALUES (1, 12345.67, 'a');
INSERT INTO r20.pay VALUES (2, 12100.00, 'b');
CREATE TABLE r20.salaries (id int PRIMARY KEY, employee text NOT NULL, amount numeric(12,2) NOT NULL, note text);
INSERT INTO r20.salaries VALUES
  (1, '王建国', 12345.67, 'a'), (2, '王建明', 12100.00, 'b'), (3, '李秀英', 9876.54, 'c'), (4, '王建堃', 15000.00, 'd');
CREATE TABLE r20.clients (id int PRIMARY KEY, name text NOT NULL, note text);
INSERT INTO r20.clients VALUES (1, '王建国', 'a'), (2, '王建明', 'b');
CREATE TABLE r20.ids (id int PRIMARY KEY, id_no char(18) NOT NULL, note text);
INSERT INTO r20.ids VALUES
  (1, '310225197509112260', 'a'), (2, '110101198001011232', 'b'), (3, '310115199203041122', 'c'),
  (4, '310105198807158033', 'd'), (5, '320102199001011234', 'e'), (6, '440301198502023344', 'f');
ANALYZE;
GRANT USAGE ON SCHEMA r20 TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA r20 TO PUBLIC;
`

// rt20Policy: the red-team analyst (rtAnalystRoles) with client names
// tokenized besides.
const rt20Policy = `
classes:
  cn_id: [r20.people.id_no, r20.ids.id_no, r20.citizens.id_no]
  person_name: [r20.salaries.employee]
  salary: [r20.salaries.amount, r20.pay.amount]
  client_name: [r20.clients.name]
roles:
  analyst:
    rules:
      cn_id: tokenize
      person_name: {mask: cn_name}
      salary: {mask: round, to: 1000}
      client_name: tokenize
`

// rt20Proxy starts pgmantle in front of rt20Schema.
func rt20Proxy(t *testing.T) (addr, db string) { return rtProxy(t, rt20Schema, rt20Policy) }

// rt20Connect logs the analyst in with extra startup parameters.
func rt20Connect(t *testing.T, addr, db string, params map[string]string) *pgconn.PgConn {
	t.Helper()
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("postgres://analyst:%s@%s/%s?sslmode=disable", password, addr, db))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	c, err := pgconn.ConnectConfig(pgtest.Context(t), cfg)
	if err != nil {
		t.Fatalf("connect with %v: %v", params, err)
	}
	t.Cleanup(func() { c.Close(pgtest.Context(t)) })
	return c
}

// rt20After runs setup in one analyst session, then probe, and returns
// what probe alone answered and whether pgmantle refused any of them.
func rt20After(t *testing.T, addr, db string, setup []string, probe string) (string, bool) {
	t.Helper()
	conn := rt16Connect(t, addr, db, "analyst")
	before, errs := rtRunAll(t, conn, setup...)
	got, perr := rtRunAll(t, conn, probe)
	rtRunAll(t, conn, "ROLLBACK")
	refused := rt16IsRefusal(perr[0])
	for _, err := range errs {
		refused = refused || rt16IsRefusal(err)
	}
	t.Logf("%q then %q (refused=%v):\n%s--\n%s", setup, probe, refused, before, got)
	return got, refused
}

// rt20Differ runs two setups that differ only in a clean value and
// reports a leak when pgmantle allows both and probe answers them
// differently.
func rt20Differ(t *testing.T, addr, db, what string, setup1, setup2 []string, probe string) {
	t.Helper()
	a, ar := rt20After(t, addr, db, setup1, probe)
	b, br := rt20After(t, addr, db, setup2, probe)
	if !ar && !br && a != b {
		t.Errorf("LEAK: %s:\n%s--\n%s", what, a, b)
	}
}

// TestAnalysisReview20PartitionStatsLeak: round 16 refuses tableoid on a
// table partitioned by a protected column (and reading a partition by
// name) because which partition a row is in is a value computed from the
// partition key: here left(id_no, 6), the region of a tokenized ID
// number. The analyst reads the same thing from PostgreSQL's statistics
// counters of its own transaction, a system view pgmantle allows
// (refusedRelations lists pg_stats, pg_stat_activity, ... but not
// pg_stat_xact_user_tables, pg_stat_user_tables or pg_statio_*), and
// from the ctid of the rows it updates:
//
//   - read-only: SELECT id FROM r20.people WHERE id = 3 LIMIT 1 scans
//     the partitions in bound order ('110101' first) and stops at the
//     row; then SELECT relname, seq_scan, seq_tup_read FROM
//     pg_stat_xact_user_tables shows people_bj 1|3, people_sh 1|2 for
//     row 3 (so it is in people_sh, FOR VALUES IN ('310105'), which
//     pg_class.relpartbound shows) and people_bj 1|2, people_sh 0|0 for
//     row 4: the region of each tokenized ID number, one clean query
//     per row, with SELECT privileges only;
//   - update-stats: UPDATE r20.people SET note = note WHERE id = k (a
//     clean column by a clean predicate) counts n_tup_upd on the
//     partition holding row k;
//   - ctid: UPDATE ... WHERE id = 1 RETURNING ctid gives (0,4), then
//     row 3 gives (0,5) (the next slot of the same partition's page)
//     and row 2 gives (0,4) (another partition): which rows share a
//     region, without any catalog;
//   - hash-guess: for r20.citizens, PARTITION BY HASH (id_no) with
//     modulus 4, the counters put row 1 in citizens_1, and
//     satisfies_hash_partition('r20.citizens'::regclass, 4, 1,
//     '<guess>'::char(18)), a built-in allowed on literals, says t for
//     the right ID number and f for a wrong one (row 2's, in another
//     partition): 2 bits of a public hash of the real value per row, to
//     filter guesses offline;
//   - inheritance: the same counters for r20.pay tell whether a salary
//     is in the child r20.pay_high (CHECK amount >= 12200): rows 1 and
//     2 both show 12000.00, the counters say 12345.67 >= 12200 > 12100.
//
// pgmantle misses it because the analysis charges the partition key only
// where a statement names tableoid or a partition (parser: the partition
// key uses), and knows nothing of what a statement's execution leaves
// in the statistics views or in the physical position of the new row
// versions. Safe: restricted sessions may not read the per-table
// counters of tables (partitions, inheritance children) whose partition
// key or CHECK reads a protected column (or pg_stat_xact_*/pg_stat_*
// tables at all), and ctid of such tables is treated like tableoid.
func TestAnalysisReview20PartitionStatsLeak(t *testing.T) {
	addr, db := rt20Proxy(t)
	const scans = "SELECT relname, seq_scan, seq_tup_read, n_tup_upd FROM pg_stat_xact_user_tables WHERE relname LIKE 'people%' ORDER BY relname"
	t.Run("read-only", func(t *testing.T) {
		rt20Differ(t, addr, db, "the partitions a LIMIT 1 read of one row scanned (pg_stat_xact_user_tables) tell the region of its tokenized ID number",
			[]string{"BEGIN", "SELECT id FROM r20.people WHERE id = 3 LIMIT 1"},
			[]string{"BEGIN", "SELECT id FROM r20.people WHERE id = 4 LIMIT 1"}, scans)
	})
	t.Run("update-stats", func(t *testing.T) {
		rt20Differ(t, addr, db, "the partition whose n_tup_upd an UPDATE of a clean column counts tells the region of the row's tokenized ID number",
			[]string{"BEGIN", "UPDATE r20.people SET note = note WHERE id = 3"},
			[]string{"BEGIN", "UPDATE r20.people SET note = note WHERE id = 4"}, scans)
	})
	t.Run("ctid", func(t *testing.T) {
		// In one transaction: row 1, then row k. The new version of row k
		// takes the slot after row 1's exactly when they share a page,
		// hence a partition.
		var guess []string
		for k := 2; k <= 6; k++ {
			got, refused := rt17Outcome(t, addr, db, "BEGIN",
				"UPDATE r20.people SET note = note WHERE id = 1 RETURNING ctid",
				fmt.Sprintf("UPDATE r20.people SET note = note WHERE id = %d RETURNING ctid", k), "ROLLBACK")
			t.Logf("row 1 then row %d (refused=%v):\n%s", k, refused, got)
			var b1, o1, bk, ok int
			if refused || !rt20Scan(got, &b1, &o1, &bk, &ok) {
				return
			}
			if bk == b1 && ok == o1+1 {
				guess = append(guess, fmt.Sprint(k))
			}
		}
		// Rows 3 and 5 are in row 1's region (310105), 2, 4 and 6 not.
		if strings.Join(guess, ",") == "3,5" {
			t.Errorf("LEAK: the ctid of the rows updated after row 1 tells that rows 3 and 5 share its partition (region 310105) and rows 2, 4, 6 do not")
		}
	})
	// HASH (id_no): the partition of row 1 (the one an UPDATE of its
	// note counts in) is 2 bits of a public hash of its real ID number,
	// which satisfies_hash_partition (a built-in pgmantle allows on
	// literals) computes for any guess: a filter for guesses the token
	// was meant to make useless.
	t.Run("hash-guess", func(t *testing.T) {
		got, refused := rt20After(t, addr, db, []string{"BEGIN", "UPDATE r20.citizens SET note = note WHERE id = 1"},
			"SELECT relname FROM pg_stat_xact_user_tables WHERE relname LIKE 'citizens%' AND n_tup_upd > 0")
		part := strings.TrimSuffix(strings.SplitN(got, "\n", 2)[0], "|")
		if refused || !strings.HasPrefix(part, "citizens_") {
			t.Logf("partition of row 1: %q", got)
			return
		}
		check := func(guess string) string {
			out, refused := rt17Outcome(t, addr, db, fmt.Sprintf("SELECT satisfies_hash_partition('r20.citizens'::regclass, 4, %s, '%s'::char(18))", part[len("citizens_"):], guess))
			t.Logf("guess %s in %s (refused=%v): %q", guess, part, refused, out)
			return out
		}
		right, wrong := check("310105198807158033"), check("110101198001011232")
		if strings.HasPrefix(right, "t|") && strings.HasPrefix(wrong, "f|") {
			t.Errorf("LEAK: row 1 is in %s; satisfies_hash_partition keeps the right guess and drops a wrong one", part)
		}
	})
	t.Run("inheritance", func(t *testing.T) {
		rt20Differ(t, addr, db, "the table whose n_tup_upd counts an UPDATE of a clean column tells whether the salary is >= 12200 (the child's CHECK), both shown as 12000.00",
			[]string{"BEGIN", "UPDATE r20.pay SET note = note WHERE id = 1"},
			[]string{"BEGIN", "UPDATE r20.pay SET note = note WHERE id = 2"},
			"SELECT relname, n_tup_upd FROM pg_stat_xact_user_tables WHERE relname LIKE 'pay%' ORDER BY relname")
	})
}

// rt20Scan reads the two ctids of a transcript.
func rt20Scan(transcript string, b1, o1, bk, ok *int) bool {
	n, _ := fmt.Sscanf(strings.Join(strings.Fields(strings.NewReplacer("UPDATE 1", "", "BEGIN", "", "ROLLBACK", "", "|", "").Replace(transcript)), " "),
		"(%d,%d) (%d,%d)", b1, o1, bk, ok)
	return n == 4
}

// rt20Fails runs one statement in a session with the given
// client_encoding and reports whether PostgreSQL failed it
// (22P05, untranslatable character), with the transcript.
func rt20Fails(t *testing.T, addr, db, encoding, sql string) (bool, bool, string) {
	t.Helper()
	got, errs := rtRunAll(t, rt20Connect(t, addr, db, map[string]string{"client_encoding": encoding}), sql)
	var pe *pgconn.PgError
	failed := errors.As(errs[0], &pe) && pe.Code == "22P05"
	t.Logf("%s: %s (refused=%v failed=%v): %q", encoding, sql, rt16IsRefusal(errs[0]), failed, got)
	return failed, rt16IsRefusal(errs[0]), got
}

// TestAnalysisReview20ClientEncodingLeak: a client may log in with any
// client_encoding pgmantle can transcode (GBK, GB18030, EUC_CN, BIG5,
// LATIN1, WIN1252: encoding.go clientEncodings). PostgreSQL converts
// every text value from the server encoding before it sends the row, so
// before pgmantle masks or tokenizes it; a character the client encoding
// lacks fails the statement with 22P05. The message is scrubbed, but
// whether the row comes is the answer: a test of every hidden character
// of a masked or tokenized value against the encoding's repertoire.
//
//   - masked names, BIG5: SELECT id, employee FROM r20.salaries WHERE
//     id = 1 fails (王建国: 国 is a simplified character Big5 lacks),
//     id = 2 returns 2|王** (王建明); both show as 王** in UTF-8. A
//     simplified-only character in the given name is a strong hint of
//     the person's origin and narrows the name;
//   - masked names, EUC_CN (GB2312): 王建堃 (id 4, 堃 is outside GB2312,
//     a rare character common in given names) fails, 王建明 passes;
//   - tokenized names, BIG5: SELECT id, name FROM r20.clients WHERE id = 1
//     fails, id = 2 returns its token: a property of the real name behind
//     a random token.
//
// pgmantle misses it because the masking happens after PostgreSQL's
// output conversion (the session runs in the client's encoding;
// resultmask transcoded decodes what PostgreSQL already converted), and
// a conversion error of a protected value is not treated as a use of it.
// Safe: restricted sessions run UTF8 on the server side and pgmantle
// converts the (masked) results to the client encoding itself, or a
// non-UTF-8 client_encoding is refused for restricted roles.
func TestAnalysisReview20ClientEncodingLeak(t *testing.T) {
	addr, db := rt20Proxy(t)
	for _, c := range []struct {
		name, encoding, hit, miss, what string
	}{
		{"masked-big5", "BIG5", "SELECT id, employee FROM r20.salaries WHERE id = 1", "SELECT id, employee FROM r20.salaries WHERE id = 2",
			"in a BIG5 session, 王建国 (shown as 王**) fails and 王建明 (shown as 王**) does not: a simplified character in the hidden part of the name"},
		{"masked-euc-cn", "EUC_CN", "SELECT id, employee FROM r20.salaries WHERE id = 4", "SELECT id, employee FROM r20.salaries WHERE id = 2",
			"in an EUC_CN session, 王建堃 (shown as 王**) fails and 王建明 does not: a character outside GB2312 in the hidden part of the name"},
		{"tokenized-big5", "BIG5", "SELECT id, name FROM r20.clients WHERE id = 1", "SELECT id, name FROM r20.clients WHERE id = 2",
			"in a BIG5 session, the row of the tokenized name 王建国 fails and that of 王建明 returns its token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			hf, hr, _ := rt20Fails(t, addr, db, c.encoding, c.hit)
			mf, mr, _ := rt20Fails(t, addr, db, c.encoding, c.miss)
			if !hr && !mr && hf != mf {
				t.Errorf("LEAK: %s", c.what)
			}
		})
	}
}

// TestAnalysisReview20Defended: probes of this round pgmantle stopped.
func TestAnalysisReview20Defended(t *testing.T) {
	addr, db := rt20Proxy(t)
	refused := []string{
		// Partition membership, directly.
		"SELECT tableoid::regclass, id FROM r20.people",
		"SELECT id FROM r20.people_sh",
		"UPDATE r20.people_sh SET note = note WHERE id = 3",
		"SELECT id FROM r20.people WHERE left(id_no, 6) = '310105'",
		// Statistics and plans.
		"EXPLAIN SELECT id FROM r20.people WHERE id = 3",
		"EXPLAIN ANALYZE SELECT id FROM r20.people WHERE id = 3 LIMIT 1",
		"SELECT * FROM pg_stats WHERE schemaname = 'r20'",
		"SELECT * FROM pg_stats_ext",
		"SELECT pg_stat_get_xact_tuples_updated('r20.people_sh'::regclass)",
		"SELECT pg_stat_get_xact_numscans('r20.people_sh'::regclass)",
		"SELECT current_query()",
		// The encoding, by statement or function, and conversions of
		// protected values.
		"SET client_encoding = 'BIG5'",
		"SELECT set_config('client_encoding', 'BIG5', false)",
		"SELECT convert_to(employee, 'BIG5') FROM r20.salaries",
		"SELECT id FROM r20.salaries WHERE octet_length(employee) = 9",
		"SELECT pg_column_size(employee) FROM r20.salaries",
		// Ordering and aggregates over protected columns.
		"SELECT mode() WITHIN GROUP (ORDER BY id_no) FROM r20.ids",
		"SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY amount) FROM r20.salaries",
		"SELECT min(id_no) FROM r20.ids",
		"SELECT id FROM r20.ids WHERE id_no::text LIKE '31%'",
		"SELECT id FROM r20.salaries WHERE amount IS NOT DISTINCT FROM 12345.67",
	}
	rtAllRefused(t, addr, db, refused)
	// A UTF-8 session reads the masked names and the tokens alike.
	for _, sql := range []string{"SELECT id, employee FROM r20.salaries ORDER BY id", "SELECT id, name FROM r20.clients ORDER BY id"} {
		got, err := rt16Run(t, addr, db, "analyst", sql)
		if err != nil || strings.Contains(got, "建") {
			t.Errorf("%s: %v %q", sql, err, got)
		}
	}
	// A client encoding pgmantle cannot transcode is refused when the
	// session starts.
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("postgres://analyst:%s@%s/%s?sslmode=disable", password, addr, db))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["client_encoding"] = "SJIS"
	if c, err := pgconn.ConnectConfig(pgtest.Context(t), cfg); err == nil {
		got, _ := rtRunAll(t, c, "SELECT id, employee FROM r20.salaries WHERE id = 1")
		c.Close(pgtest.Context(t))
		t.Errorf("an SJIS session started: %q", got)
	} else if !strings.Contains(err.Error(), "42501") {
		t.Errorf("an SJIS session: %v, want a 42501 refusal", err)
	}
}
