package resultmask_test

// Third red-team round on search by token (after tokens_review_test.go and
// tokens_review2_test.go). Every subtest FAILS when its attack succeeds:
// a real value of a protected column reaches the analyst, or a guessed
// real value gets another answer than a fake one.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/proxy"
	"github.com/pgmantle/pgmantle/proxy/resultmask"
)

// rt3DialRaw is rtDialRaw with startup parameters (client_encoding).
func rt3DialRaw(t *testing.T, addr, db string, params map[string]string) *rtRaw {
	t.Helper()
	c := rtDial(t, addr, db, params)
	hc, err := c.pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hc.Conn.Close() })
	return &rtRaw{conn: hc.Conn, fe: hc.Frontend}
}

// rt3Bytes writes s as the decimal byte list PostgreSQL's node dumps use
// for a Const's value (":constvalue 22 [ 88 0 0 0 51 49 ... ]").
func rt3Bytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, " %d", s[i])
	}
	return b.String()
}

// rt3LeakChars reads the real value behind a token character by
// character: Bind name (which pgmantle believes compares $1 with a
// tokenized column, and so detokenizes) while PostgreSQL holds, under
// the same name, a statement that returns the row whose id is the code
// of character $2 of $1.
func rt3LeakChars(t *testing.T, r *rtRaw, name, tok string) (string, []string) {
	t.Helper()
	var learned strings.Builder
	var all []string
	for k := 1; k <= 18; k++ {
		b := r.batch(t,
			&pgproto3.Bind{PreparedStatement: name, Parameters: [][]byte{[]byte(tok), []byte(fmt.Sprint(k))}},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		all = append(all, b.all...)
		if len(b.rows) == 1 {
			var code int
			fmt.Sscan(b.rows[0][0], &code)
			learned.WriteByte(byte(code))
		}
	}
	return learned.String(), all
}

const (
	// rt3Search compares $1 with a tokenized column: pgmantle detokenizes
	// $1 at Bind.
	rt3Search = "SELECT id FROM t.people WHERE id_no = $1 AND id = $2::int"
	// rt3Oracle turns character $2 of $1 into a row id.
	rt3Oracle = "SELECT id FROM t.people WHERE id = ascii(substr($1::text, $2::int, 1))"
	// rt3Clean is a one-column result with no protected data.
	rt3Clean = "SELECT 'x'::text AS v"
	// rt3Scalar returns row 5's ID number through a scalar subquery:
	// RowDescription gives no origin, so the analysis's plan decides the
	// column's masking (tokenize).
	rt3Scalar = "SELECT (SELECT id_no FROM t.people WHERE id = 5) AS v"
)

func TestTokensReview3(t *testing.T) {
	_, km := vaultKeys(t)
	addr, db, ids := tokenProxy(t, km, "")
	direct := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	analyst := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	f := &rtFixture{addr: addr, db: db, ids: ids}
	f.readTokens(t, analyst, direct)

	noLeak := func(t *testing.T, what string, o string) {
		t.Helper()
		if v := f.leak(o); v != "" {
			t.Errorf("LEAK (%s): the real value %s reached the client:\n%s", what, v, o)
		}
		for _, list := range [][]string{f.ids, f.mobiles, f.cards} {
			for _, v := range list {
				if strings.Contains(o, rt3Bytes(v)) {
					t.Errorf("LEAK (%s): the real value %s reached the client as a node dump's bytes", what, v)
				}
			}
		}
	}
	refused := rtRefused
	sameAnswer := rtSameAnswer
	// sanity: the statements the attacks below rely on are allowed, and
	// rt3Scalar shows row 5's token.
	if got := oneColumn(t, analyst, rt3Scalar); len(got) != 1 || got[0] != f.idToks[4] {
		t.Fatalf("%s as analyst: %v (want the token %s)", rt3Scalar, got, f.idToks[4])
	}

	// =================================================================
	// FINDINGS (these fail while the flaw is there)
	// =================================================================

	// PostgreSQL converts a protocol statement name from the client
	// encoding before it keys it (pq_getmsgstring); pgmantle keys protocol
	// names by their client-encoded bytes, but SQL names (PREPARE,
	// DEALLOCATE) by their UTF-8 text. In a GBK session DEALLOCATE and
	// PREPARE of "中文" replace what PostgreSQL holds under the protocol
	// name GBK("中文"), while pgmantle keeps its old analysis for it: a Bind
	// of the name is detokenized for a statement that is no longer there.
	t.Run("GBKProtocolNameVsSQLPrepare", func(t *testing.T) {
		enc := simplifiedchinese.GBK.NewEncoder()
		gbk := func(s string) string {
			b, err := enc.String(s)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		r := rt3DialRaw(t, addr, db, map[string]string{"client_encoding": "GBK"})
		name := gbk("中文")
		if b := r.batch(t, &pgproto3.Parse{Name: name, Query: rt3Search}, &pgproto3.Sync{}); len(b.errors) > 0 {
			if strings.Contains(fmt.Sprint(b.all), "must be ASCII") {
				t.Logf("defended: the name is refused: %v", b.all)
				return
			}
			t.Fatalf("parse: %v", b.all)
		}
		b1 := r.batch(t, &pgproto3.Query{String: gbk("DEALLOCATE 中文")})
		b2 := r.batch(t, &pgproto3.Query{String: gbk("PREPARE 中文(text, int) AS " + strings.ReplaceAll(strings.ReplaceAll(rt3Oracle, "$1::text", "$1"), "$2::int", "$2"))})
		t.Logf("DEALLOCATE: %v; PREPARE: %v", b1.all, b2.all)
		victim := 13
		learned, all := rt3LeakChars(t, r, name, f.idToks[victim])
		t.Logf("learned %q from the token %s (real %s)", learned, f.idToks[victim], f.ids[victim])
		if learned == f.ids[victim] {
			t.Errorf("LEAK (GBK session: Bind of protocol name GBK(\"中文\") after SQL DEALLOCATE/PREPARE 中文): pgmantle detokenized $1 for its stale analysis and PostgreSQL ran the new statement; the real value %s was read from its token %s", f.ids[victim], f.idToks[victim])
		}
		noLeak(t, "GBK protocol name vs SQL PREPARE", strings.Join(all, "\n"))
	})

	// The same divergence through the 63-byte limit: 22 Chinese characters
	// are 44 bytes in GBK (distinct names for pgmantle) but 66 in UTF-8,
	// so PostgreSQL keys "<22 chars>_a" and "<22 chars>_b" alike. A
	// protocol Close of one frees the other in PostgreSQL only.
	for _, ec := range []struct {
		name, encoding string
		encode         func(string) (string, error)
		char           string
		n              int
	}{
		{"GBKNameTruncationCollision", "GBK", simplifiedchinese.GBK.NewEncoder().String, "中", 22},
		{"BIG5NameTruncationCollision", "BIG5", traditionalchinese.Big5.NewEncoder().String, "中", 22},
		{"LATIN1NameTruncationCollision", "LATIN1", charmap.ISO8859_1.NewEncoder().String, "é", 32},
	} {
		t.Run(ec.name, func(t *testing.T) {
			base, err := ec.encode(strings.Repeat(ec.char, ec.n))
			if err != nil {
				t.Fatal(err)
			}
			search, oracle := base+"_b", base+"_a"
			r := rt3DialRaw(t, addr, db, map[string]string{"client_encoding": ec.encoding})
			if b := r.batch(t, &pgproto3.Parse{Name: search, Query: rt3Search}, &pgproto3.Sync{}); len(b.errors) > 0 {
				if strings.Contains(fmt.Sprint(b.all), "must be ASCII") {
					t.Logf("defended: the name is refused: %v", b.all)
					return
				}
				t.Fatalf("parse: %v", b.all)
			}
			bc := r.batch(t, &pgproto3.Close{ObjectType: 'S', Name: oracle}, &pgproto3.Sync{})
			bp := r.batch(t, &pgproto3.Parse{Name: oracle, Query: rt3Oracle}, &pgproto3.Sync{})
			t.Logf("Close: %v; Parse: %v", bc.all, bp.all)
			victim := 21
			learned, all := rt3LeakChars(t, r, search, f.idToks[victim])
			t.Logf("learned %q from the token %s (real %s)", learned, f.idToks[victim], f.ids[victim])
			if learned == f.ids[victim] {
				t.Errorf("LEAK (%s session: protocol names equal in their first 63 UTF-8 bytes, not in their %s bytes): the real value %s was read from its token %s", ec.encoding, ec.encoding, f.ids[victim], f.idToks[victim])
			}
			noLeak(t, ec.name, strings.Join(all, "\n"))
		})
	}

	// The proxy's registry of prepared statements (whose analysis decides
	// the masking of result columns without an origin) keys names in
	// full; PostgreSQL by their first 63 bytes (the analysis state was
	// fixed for this, the registry was not). Close "s…s_y" frees "s…s_x"
	// in PostgreSQL; Parse "s…s_y" of a scalar subquery on id_no; Bind
	// "s…s_x" runs it, and its column is masked by the plan of the clean
	// statement the registry still files under "s…s_x".
	t.Run("LongStatementNameRegistryUnmasked", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		base := strings.Repeat("s", 63)
		if b := r.batch(t, &pgproto3.Parse{Name: base + "_x", Query: rt3Clean}, &pgproto3.Sync{}); len(b.errors) > 0 {
			t.Fatalf("parse: %v", b.all)
		}
		r.batch(t, &pgproto3.Close{ObjectType: 'S', Name: base + "_y"}, &pgproto3.Sync{})
		if b := r.batch(t, &pgproto3.Parse{Name: base + "_y", Query: rt3Scalar}, &pgproto3.Sync{}); len(b.errors) > 0 {
			t.Fatalf("parse Y: %v", b.all)
		}
		b := r.batch(t,
			&pgproto3.Bind{PreparedStatement: base + "_x"},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		t.Logf("Bind of %s…_x: %v", base[:3], b.all)
		noLeak(t, "Bind of a 64+-byte statement name the registry still files as a clean statement", strings.Join(b.all, "\n"))
	})

	// The same with portal names: Close portal "p…p_b" closes "p…p_a" in
	// PostgreSQL, Bind "p…p_b" to the scalar subquery, Execute "p…p_a".
	t.Run("LongPortalNameRegistryUnmasked", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		base := strings.Repeat("p", 63)
		if b := r.batch(t,
			&pgproto3.Parse{Name: "rt3_x", Query: rt3Clean},
			&pgproto3.Parse{Name: "rt3_y", Query: rt3Scalar},
			&pgproto3.Sync{}); len(b.errors) > 0 {
			t.Fatalf("parse: %v", b.all)
		}
		r.batch(t, &pgproto3.Query{String: "BEGIN"})
		b1 := r.batch(t,
			&pgproto3.Bind{DestinationPortal: base + "_a", PreparedStatement: "rt3_x"},
			&pgproto3.Describe{ObjectType: 'P', Name: base + "_a"},
			&pgproto3.Sync{})
		b2 := r.batch(t, &pgproto3.Close{ObjectType: 'P', Name: base + "_b"}, &pgproto3.Sync{})
		b3 := r.batch(t, &pgproto3.Bind{DestinationPortal: base + "_b", PreparedStatement: "rt3_y"}, &pgproto3.Sync{})
		b4 := r.batch(t, &pgproto3.Execute{Portal: base + "_a"}, &pgproto3.Sync{})
		r.batch(t, &pgproto3.Query{String: "COMMIT"})
		t.Logf("bind a %v; close b %v; bind b %v; execute a %v", b1.all, b2.all, b3.all, b4.all)
		noLeak(t, "Execute of a 64+-byte portal name the registry still files as a clean portal", strings.Join(b4.all, "\n"))
	})

	// A SQL cursor closed by a protocol Close of its portal name: in a GBK
	// session pgmantle does not see the Bind that then creates a portal of
	// that name (it compares GBK bytes with the cursor's UTF-8 name), and
	// FETCH from it is planned with the closed cursor's analysis. (Run in
	// GB18030, which encodes 游标 as GBK does: masked text is no longer
	// served in GBK itself, red-team round 20.)
	t.Run("GBKCursorReboundByProtocol", func(t *testing.T) {
		enc := simplifiedchinese.GB18030.NewEncoder()
		gbk := func(s string) string {
			b, err := enc.String(s)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		r := rt3DialRaw(t, addr, db, map[string]string{"client_encoding": "GB18030"})
		if b := r.batch(t, &pgproto3.Parse{Name: "rt3_y", Query: rt3Scalar}, &pgproto3.Sync{}); len(b.errors) > 0 {
			t.Fatalf("parse: %v", b.all)
		}
		r.batch(t, &pgproto3.Query{String: "BEGIN"})
		d := r.batch(t, &pgproto3.Query{String: gbk("DECLARE 游标 CURSOR FOR " + rt3Clean)})
		c := r.batch(t, &pgproto3.Close{ObjectType: 'P', Name: gbk("游标")}, &pgproto3.Sync{})
		bd := r.batch(t, &pgproto3.Bind{DestinationPortal: gbk("游标"), PreparedStatement: "rt3_y"}, &pgproto3.Sync{})
		fe := r.batch(t, &pgproto3.Query{String: gbk("FETCH ALL FROM 游标")})
		r.batch(t, &pgproto3.Query{String: "COMMIT"})
		t.Logf("declare %v; close %v; bind %v; fetch %v", d.all, c.all, bd.all, fe.all)
		noLeak(t, "FETCH from a portal rebound under a GBK name", strings.Join(fe.all, "\n"))
	})

	// =================================================================
	// DEFENDED (these pass)
	// =================================================================

	// Settings a restricted role may change that make PostgreSQL echo
	// the bind parameters of a failing portal (CONTEXT) or dump the parse
	// tree and plan, with the detokenized Const, as LOG notices.
	t.Run("EchoingSettings", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, sql := range []string{
			"SET log_parameter_max_length_on_error = -1",
			"SET client_min_messages = debug5",
			"SET debug_print_parse = on",
			"SET debug_print_rewritten = on",
			"SET debug_print_plan = on",
			"SET debug_pretty_print = off",
			"SET plan_cache_mode = force_custom_plan",
		} {
			o := c.simple(t, sql)
			t.Logf("%s: %q", sql, o.code)
		}
		for _, q := range []struct {
			sql  string
			args [][]byte
		}{
			{"SELECT id FROM t.people WHERE id_no = $1 AND 1 / (id - id) = 0", [][]byte{[]byte(f.idToks[30])}},
			{"SELECT id FROM t.people WHERE id_no = $1 AND 1 / 0 = 0", [][]byte{[]byte(f.idToks[31])}},
			{"SELECT id FROM t.people WHERE mobile = $1", [][]byte{[]byte(f.mobileToks[32])}},
		} {
			o := c.params(t, q.sql, q.args, nil, nil)
			noLeak(t, q.sql, o.text())
		}
		for _, sql := range []string{
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = '%s'", f.idToks[33]),
			fmt.Sprintf("SELECT id FROM t.people WHERE card = '%s' AND 1 / (id - id) = 0", f.cardToks[34]),
		} {
			o := c.simple(t, sql)
			noLeak(t, sql, o.text())
		}
		r := rtDialRaw(t, addr, db)
		r.batch(t, &pgproto3.Query{String: "SET log_parameter_max_length_on_error = -1; SET client_min_messages = debug5; SET debug_print_plan = on"})
		b := r.batch(t,
			&pgproto3.Parse{Name: "rt3_e", Query: "SELECT id FROM t.people WHERE id_no = $1 AND 1 / (id - id) = 0"},
			&pgproto3.Bind{PreparedStatement: "rt3_e", Parameters: [][]byte{[]byte(f.idToks[35])}},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		noLeak(t, "raw errors and notices", strings.Join(b.all, "\n"))
	})

	// Relations and functions that show the text PostgreSQL runs (which
	// holds the detokenized literals), in the same Query as a search.
	t.Run("StatementTextViews", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		search := fmt.Sprintf("SELECT id FROM t.people WHERE id_no = '%s'; ", f.idToks[40])
		for _, sql := range []string{
			"SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()",
			"SELECT query FROM pg_catalog.pg_stat_activity",
			"TABLE pg_stat_activity",
			`SELECT a.query FROM "pg_stat_activity" a`,
			"SELECT (a).query FROM pg_stat_activity a",
			"SELECT row_to_json(a)::text FROM pg_stat_activity a",
			"SELECT pg_stat_get_backend_activity(s) FROM pg_stat_get_backend_idset() s",
			"SELECT query FROM pg_stat_get_activity(NULL)",
			"SELECT * FROM pg_backend_memory_contexts",
			"SELECT statement FROM pg_prepared_statements",
			"SELECT statement FROM pg_cursors",
			"SELECT current_query()",
			"SELECT pg_catalog.current_query()",
			`SELECT "current_query"()`,
			"SELECT query_to_xml('SELECT current_query()', false, false, '')::text",
			"SELECT * FROM pg_stat_get_backend_activity(pg_backend_pid())",
		} {
			o := c.simple(t, search+sql)
			noLeak(t, sql, o.text())
			if o.err == nil {
				t.Logf("%s: allowed, %v", sql, o.rows)
			}
		}
	})

	// Chosen values tokenized through a join's merged column, arrays,
	// COALESCE and the like: a guess that comes back as a token of the
	// table confirms it.
	t.Run("ChosenValuesIntoTokenizedColumn", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, tmpl := range []string{
			"SELECT id_no FROM (SELECT id_no FROM t.people WHERE id = 0) p FULL JOIN (SELECT '%s'::varchar AS id_no) g USING (id_no)",
			"SELECT id_no FROM (SELECT id_no FROM t.people WHERE id = 0) p RIGHT JOIN (SELECT '%s'::varchar AS id_no) g USING (id_no)",
			"SELECT id_no FROM (SELECT '%s'::varchar AS id_no) g NATURAL FULL JOIN (SELECT id_no FROM t.people WHERE false) p",
			"SELECT COALESCE((SELECT id_no FROM t.people WHERE false), '%s')",
			"SELECT unnest(ARRAY[(SELECT id_no FROM t.people WHERE false), '%s'])",
			"SELECT id_no FROM t.people WHERE false UNION ALL SELECT id_no FROM (VALUES ('%s'::varchar)) v(id_no)",
			"SELECT x FROM (SELECT id_no AS x FROM t.people WHERE false) a FULL JOIN (VALUES ('%s')) v(y) ON false",
			"SELECT GREATEST(id_no, '%s') FROM t.people WHERE false",
			"WITH c AS MATERIALIZED (SELECT id_no FROM t.people WHERE false UNION ALL SELECT '%s') SELECT id_no FROM c",
		} {
			// (the guess itself may come back: it is the analyst's own text)
			real := c.simple(t, fmt.Sprintf(tmpl, f.ids[8]))
			t.Logf("%s: %v %q", tmpl, real.rows, real.code)
			if strings.Contains(real.text(), f.idToks[8]) {
				t.Errorf("CONFIRMATION ORACLE (%s): the guess %s came back as row 9's token", tmpl, f.ids[8])
			}
		}
		// the same through COPY TO STDOUT, whose masking is planned apart
		for _, tmpl := range []string{
			"COPY (SELECT id_no FROM t.people WHERE false UNION ALL SELECT '%s') TO STDOUT",
			"COPY (SELECT id_no FROM t.people WHERE false UNION ALL SELECT '%s') TO STDOUT (FORMAT csv)",
			"COPY (SELECT id_no FROM t.people WHERE false UNION ALL SELECT '%s') TO STDOUT (FORMAT binary)",
			"COPY (SELECT x FROM (SELECT id_no AS x FROM t.people WHERE false UNION ALL VALUES ('%s')) s) TO STDOUT",
		} {
			var out strings.Builder
			_, err := c.pc.CopyTo(context.Background(), &out, fmt.Sprintf(tmpl, f.ids[8]))
			t.Logf("%s: %q %v", tmpl, out.String(), err)
			if strings.Contains(out.String(), f.idToks[8]) {
				t.Errorf("CONFIRMATION ORACLE (%s): the guess %s came back as row 9's token", tmpl, f.ids[8])
			}
		}
		// hash class through COPY
		var a, b strings.Builder
		c.pc.CopyTo(context.Background(), &a, "COPY (SELECT city FROM t.people WHERE id = 1 UNION ALL SELECT 'shanghai') TO STDOUT")
		c.pc.CopyTo(context.Background(), &b, "COPY (SELECT city FROM t.people WHERE id = 1 UNION ALL SELECT 'beijing') TO STDOUT")
		if la, lb := strings.Split(strings.TrimSpace(a.String()), "\n"), strings.Split(strings.TrimSpace(b.String()), "\n"); len(la) == 2 && len(lb) == 2 && la[0] == la[1] && lb[0] != lb[1] {
			t.Errorf("CONFIRMATION ORACLE (COPY, hash class with a literal): 'shanghai' hashes like row 1's city")
		}
	})

	// Sublinks whose single output is the token literal, and VALUES.
	t.Run("SublinkAndValuesForms", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, tmpl := range []string{
			"SELECT id::text FROM t.people WHERE id_no IN (VALUES ('%s'))",
			"SELECT id::text FROM t.people WHERE id_no = (VALUES ('%s'))",
			"SELECT id::text FROM t.people WHERE id_no IN (SELECT '%s' FROM t.people GROUP BY 1)",
			"SELECT id::text FROM t.people WHERE id_no IN (SELECT '%s' AS v ORDER BY v LIMIT 1)",
			"SELECT id::text FROM t.people WHERE id_no = ANY (SELECT DISTINCT '%s' FROM t.people)",
			"SELECT id::text FROM t.people WHERE id_no IN (SELECT '%s' FROM t.people p2 WHERE p2.id_no = t.people.id_no)",
			"SELECT id::text FROM t.people p WHERE (SELECT '%s') = p.id_no",
			"SELECT id::text FROM t.people WHERE id_no = (SELECT '%s' WHERE EXISTS (SELECT 1 FROM t.people))",
		} {
			tok := c.simple(t, fmt.Sprintf(tmpl, f.idToks[44]))
			real := c.simple(t, fmt.Sprintf(tmpl, f.ids[44]))
			fake := c.simple(t, fmt.Sprintf(tmpl, f.fakeID))
			t.Logf("%s: token %v %q", tmpl, tok.rows, tok.code)
			sameAnswer(t, tmpl, real, fake)
			noLeak(t, tmpl, tok.text()+real.text())
		}
	})

	// A token filter and a guessed value in one statement, through joins,
	// EXISTS, HAVING and counts across the two tables of the class.
	t.Run("TokenAndGuessTogether", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		// row 48 (index 47) has payroll rows (47 % 3 = 2)
		for _, tmpl := range []string{
			"SELECT count(*)::text FROM t.people p JOIN t.payroll r ON r.id_no = p.id_no WHERE p.id_no = '" + f.idToks[47] + "' AND r.id_no = '%s'",
			"SELECT count(*)::text FROM t.people p WHERE p.id_no = '" + f.idToks[47] + "' AND EXISTS (SELECT 1 FROM t.payroll r WHERE r.id_no = p.id_no AND r.id_no <> '%s')",
			"SELECT r.id_no IS NULL FROM t.people p LEFT JOIN t.payroll r ON r.id_no = p.id_no AND r.id_no = '%s' WHERE p.id_no = '" + f.idToks[47] + "' LIMIT 1",
			"SELECT count(*)::text FROM t.payroll GROUP BY id_no HAVING id_no IN ('" + f.idToks[47] + "', '%s')",
			"SELECT count(*)::text FROM t.people WHERE id_no IN ('" + f.idToks[47] + "', '%s') OR mobile = '%[1]s'",
			"SELECT count(*)::text FROM t.people WHERE id_no IS NOT DISTINCT FROM '%s' OR id_no = '" + f.idToks[47] + "'",
		} {
			real := c.simple(t, fmt.Sprintf(tmpl, f.ids[47]))
			fake := c.simple(t, fmt.Sprintf(tmpl, f.fakeID))
			t.Logf("%s: real %v %q", tmpl, real.rows, real.code)
			sameAnswer(t, tmpl, real, fake)
			noLeak(t, tmpl, real.text())
		}
	})

	// Token search in the other client encodings pgmantle transcodes.
	t.Run("OtherEncodings", func(t *testing.T) {
		for _, ec := range []struct {
			name   string
			encode func(string) (string, error)
		}{
			{"BIG5", traditionalchinese.Big5.NewEncoder().String},
			{"GB18030", simplifiedchinese.GB18030.NewEncoder().String},
			{"EUC_CN", simplifiedchinese.GBK.NewEncoder().String},
			{"LATIN1", charmap.ISO8859_1.NewEncoder().String},
			{"WIN1252", charmap.Windows1252.NewEncoder().String},
		} {
			c := rtDial(t, addr, db, map[string]string{"client_encoding": ec.name})
			run := func(v string) rtOut {
				sql := fmt.Sprintf("SELECT 'x' AS x, id::text FROM t.people WHERE id_no = '%s' OR mobile = $$%s$$", v, "13999999999")
				if ec.name != "EUC_CN" {
					var err error
					if sql, err = ec.encode(sql); err != nil {
						t.Fatal(err)
					}
				}
				return c.simple(t, sql)
			}
			tok := run(f.idToks[50])
			if len(tok.rows) != 1 || tok.rows[0][1] != "51" {
				t.Errorf("%s: token search %v %v", ec.name, tok.rows, tok.err)
			}
			sameAnswer(t, ec.name, run(f.ids[50]), run(f.fakeID))
			p := c.params(t, "SELECT id::text FROM t.people WHERE card = $1", [][]byte{[]byte(f.cardToks[51])}, nil, nil)
			if fmt.Sprint(p.rows) != "[[52]]" {
				t.Errorf("%s param: %v %v", ec.name, p.rows, p.err)
			}
			noLeak(t, ec.name, tok.text()+p.text())
		}
	})

	// Output echoes: a second literal of the same text, NULLIF with the
	// literal first, and the comparison's value in the output.
	t.Run("OutputEchoes", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		tk := f.idToks[60]
		for _, sql := range []string{
			fmt.Sprintf("SELECT '%s' = id_no AS hit, '%s'::text AS lit FROM t.people WHERE id = 61", tk, tk),
			fmt.Sprintf("SELECT NULLIF('%s', id_no) FROM t.people WHERE id = 61", tk),
			fmt.Sprintf("SELECT NULLIF('%s'::varchar, id_no)::text FROM t.people WHERE id = 1", tk),
			fmt.Sprintf("SELECT (id_no = '%s')::text || '%s' FROM t.people WHERE id = 61", tk, tk),
			fmt.Sprintf("SELECT CASE WHEN id_no <> '%s' THEN 'no' ELSE 'yes' END FROM t.people WHERE id = 61", tk),
			fmt.Sprintf("SELECT array_agg(id_no = '%s')::text FROM t.people", tk),
			fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no = '%s' GROUP BY id, id_no = '%s'", tk, tk),
			fmt.Sprintf("SELECT DISTINCT ON (id_no = '%s') id::text FROM t.people ORDER BY id_no = '%s', id", tk, tk),
			fmt.Sprintf("SELECT json_build_object('k', id_no = '%s')::text FROM t.people WHERE id = 61", tk),
			fmt.Sprintf("SELECT format('%%s', id_no = '%s') FROM t.people WHERE id = 61", tk),
		} {
			o := c.simple(t, sql)
			t.Logf("%s: %v %q", sql, o.rows, o.code)
			noLeak(t, sql, o.text())
		}
		// COPY with the literal in the header and the rows
		var out strings.Builder
		_, err := c.pc.CopyTo(context.Background(), &out, fmt.Sprintf("COPY (SELECT id, id_no = '%s' AS \"%s\" FROM t.people WHERE id_no IN ('%s')) TO STDOUT (FORMAT csv, HEADER)", tk, tk, tk))
		_, et := errText(err)
		noLeak(t, "COPY csv header", out.String()+et)
	})

	// A tokenized free-text class in a BIG5 session. Tokens keep each
	// character's set (GB 2312, or the rest of GBK), not whether BIG5 can
	// write it. A search by a token BIG5 can write is refused ("a
	// detokenized value cannot be encoded in BIG5") exactly when the real
	// value holds a character BIG5 cannot write: one bit about the value
	// (simplified-only characters), which the analyst cannot otherwise see.
	t.Run("BIG5RepresentabilityOracle", func(t *testing.T) {
		simplified := []rune("东区车马门们说话时间这样问题觉见贝")
		common := []rune("上海市中山路大小人口天文王田土木火水")
		var b strings.Builder
		var reals []string
		for i := range 240 {
			set := common
			if i%2 == 1 {
				set = simplified
			}
			v := string([]rune{set[i%len(set)], set[(i/3)%len(set)], set[(i/7)%len(set)], common[(i/11)%len(common)]})
			reals = append(reals, v)
			fmt.Fprintf(&b, "INSERT INTO t.places VALUES (%d, '%s');\n", i+1, v)
		}
		pdb := newDatabase(t, `CREATE SCHEMA t; CREATE TABLE t.places (id int PRIMARY KEY, addr text);
GRANT USAGE ON SCHEMA t TO PUBLIC; GRANT SELECT ON ALL TABLES IN SCHEMA t TO PUBLIC;`, b.String())
		pf := writePolicy(t, `
classes:
  street: [t.places.addr]
roles:
  analyst:
    rules:
      street: tokenize
`)
		paddr, _ := startProxyWith(t, pdb, pf, func(e *resultmask.Engine, _ *proxy.Server) { e.KeyManager = km; e.Keys = nil })
		u := connectAs(t, paddr, pdb, "analyst", pgx.QueryExecModeSimpleProtocol)
		toks := oneColumn(t, u, "SELECT addr FROM t.places ORDER BY id")
		big5 := traditionalchinese.Big5.NewEncoder()
		c := rtDial(t, paddr, pdb, map[string]string{"client_encoding": "BIG5"})
		agree, tried, refusedN, foundN := 0, 0, 0, 0
		for i, tk := range toks {
			sql, err := big5.String("SELECT id::text FROM t.places WHERE addr = '" + tk + "'")
			if err != nil {
				continue // BIG5 cannot write this token
			}
			tried++
			o := c.simple(t, sql)
			_, realErr := traditionalchinese.Big5.NewEncoder().String(reals[i])
			refusedNow := o.code == "42501"
			if refusedNow {
				refusedN++
			} else if fmt.Sprint(o.rows) == fmt.Sprintf("[[%d]]", i+1) {
				foundN++
			}
			if refusedNow == (realErr != nil) {
				agree++
			}
			noLeak(t, "BIG5", o.text())
		}
		t.Logf("%d tokens BIG5 can write: %d searches refused, %d found their row; the refusal matched 'the real value has a character BIG5 cannot write' for %d", tried, refusedN, foundN, agree)
		if tried >= 10 && refusedN > 0 && foundN > 0 && agree == tried {
			t.Errorf("ORACLE (BIG5 session, search by token): of %d searchable tokens, the %d searches refused are exactly those whose real value holds a character BIG5 cannot write", tried, refusedN)
		}
	})

	// Refused shapes not covered by the earlier rounds.
	t.Run("MoreRefusedShapes", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		tk := f.idToks[0]
		for _, sql := range []string{
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = '%s'::text::varchar COLLATE \"C\" || ''", tk),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = ALL (ARRAY['%s'])", tk),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no IN (SELECT '%s' UNION SELECT '%s')", tk, tk),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = (SELECT '%s'::varchar(3))::text AND id_no LIKE '3%%'", tk),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no OPERATOR(pg_catalog.=) '%s'::text AND id_no OPERATOR(pg_catalog.<) '4'", tk),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = '%s' AND id_no ^@ '31'", tk),
			fmt.Sprintf("SELECT id FROM t.people WHERE (id_no = '%s') = (id_no < '4')", tk),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = '%s' AND starts_with(id_no, '31')", tk),
		} {
			o := c.simple(t, sql)
			refused(t, sql, o)
			noLeak(t, sql, o.text())
		}
	})
}
