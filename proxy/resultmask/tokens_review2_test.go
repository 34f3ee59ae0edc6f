package resultmask_test

// Second red-team round on search by token (after tokens_review_test.go).
// A restricted role must not learn a real value of a tokenized column,
// confirm a guessed one, make pgmantle put a detokenized value anywhere
// but the comparison with the tokenized column, or get a real guess to
// the comparison un-detokenized. Every subtest FAILS when its attack
// succeeds.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// fullWidth writes ASCII digits and letters as their full-width forms.
func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
			b.WriteRune(r - 0x21 + 0xFF01)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// untilComplete reads until CommandComplete, PortalSuspended or an error
// (no ReadyForQuery: for Sync-less flows).
func (r *rtRaw) untilComplete(t *testing.T, msgs ...pgproto3.FrontendMessage) rtRawOut {
	t.Helper()
	for _, m := range msgs {
		r.fe.Send(m)
	}
	if err := r.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	r.conn.SetDeadline(time.Now().Add(30 * time.Second))
	var o rtRawOut
	for {
		m, err := r.fe.Receive()
		if err != nil {
			o.errors = append(o.errors, "EOF "+err.Error())
			return o
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			var vs []string
			for _, v := range m.Values {
				vs = append(vs, string(v))
				o.all = append(o.all, string(v))
			}
			o.rows = append(o.rows, vs)
		case *pgproto3.ErrorResponse:
			o.errors = append(o.errors, m.Code+" "+m.Message)
			o.all = append(o.all, m.Code+" "+m.Message+"|"+m.Detail+"|"+m.Where)
			return o
		case *pgproto3.CommandComplete:
			o.all = append(o.all, string(m.CommandTag))
			return o
		case *pgproto3.PortalSuspended:
			o.all = append(o.all, "suspended")
			return o
		}
	}
}

func TestTokensReview2(t *testing.T) {
	_, km := vaultKeys(t)
	addr, db, ids := tokenProxy(t, km, "")
	direct := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	analyst := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	f := &rtFixture{addr: addr, db: db, ids: ids}
	f.readTokens(t, analyst, direct)
	// xRow is a row whose real ID number ends in X.
	xRow := -1
	for i, id := range ids {
		if strings.HasSuffix(id, "X") {
			xRow = i
			break
		}
	}
	if xRow < 0 {
		t.Fatal("no ID ending in X")
	}
	tokenOf := map[string]bool{}
	for _, list := range [][]string{f.idToks, f.mobileToks, f.cardToks} {
		for _, tk := range list {
			tokenOf[tk] = true
		}
	}

	noLeak := f.noLeak
	refused := rtRefused
	sameAnswer := rtSameAnswer
	// tags is the command tags (row counts) of a result, for DML oracles.
	tags := func(o rtOut) string {
		var out []string
		for _, s := range o.all {
			if strings.HasPrefix(s, "UPDATE") || strings.HasPrefix(s, "DELETE") || strings.HasPrefix(s, "SELECT") {
				out = append(out, s)
			}
		}
		return strings.Join(out, ",")
	}

	// =================================================================
	// FINDINGS (these fail while the flaw is there)
	// =================================================================

	// (a) The rewritten statement text, which holds the real value, is
	// what PostgreSQL runs, and current_query() returns it.
	t.Run("CurrentQueryEchoesDetokenizedLiteral", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, sql := range []string{
			fmt.Sprintf("SELECT current_query() FROM t.people WHERE id_no = '%s'", f.idToks[3]),
			fmt.Sprintf("SELECT id FROM t.people WHERE mobile = '%s'; SELECT pg_catalog.current_query() AS q", f.mobileToks[4]),
			fmt.Sprintf("SELECT left(current_query(), 200) AS q, count(*) FROM t.people WHERE card IN ('%s')", f.cardToks[5]),
		} {
			o := c.simple(t, sql)
			noLeak(t, sql, o.text())
		}
		// the same over the extended protocol (the Parse text is rewritten)
		r := rtDialRaw(t, addr, db)
		b := r.batch(t,
			&pgproto3.Parse{Query: fmt.Sprintf("SELECT current_query() AS q FROM t.people WHERE id_no = '%s'", f.idToks[6])},
			&pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
		noLeak(t, "current_query() over Parse", strings.Join(b.all, "\n"))
	})

	// (a) A Close of a confirmed statement, pipelined before a Parse of
	// the same name: pgmantle ignores the Parse (it assumes PostgreSQL will
	// refuse an existing name) and detokenizes the Bind's parameter for
	// the old statement, while PostgreSQL runs the new one.
	t.Run("PipelinedCloseThenReParseSameName", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		victim := 13
		var learned strings.Builder
		var all []string
		for k := 1; k <= 18; k++ {
			name := fmt.Sprintf("rt2_close_%d", k)
			b1 := r.batch(t, &pgproto3.Parse{Name: name, Query: "SELECT id FROM t.people WHERE id_no = $1 AND id = $2::int"}, &pgproto3.Sync{})
			if len(b1.errors) > 0 {
				t.Fatalf("parse: %v", b1.all)
			}
			b := r.batch(t,
				&pgproto3.Close{ObjectType: 'S', Name: name},
				&pgproto3.Parse{Name: name, Query: "SELECT id FROM t.people WHERE id = ascii(substr($1::text, $2::int, 1))"},
				&pgproto3.Bind{PreparedStatement: name, Parameters: [][]byte{[]byte(f.idToks[victim]), []byte(fmt.Sprint(k))}},
				&pgproto3.Execute{},
				&pgproto3.Sync{})
			all = append(all, b.all...)
			if len(b.rows) == 1 {
				var code int
				fmt.Sscan(b.rows[0][0], &code)
				learned.WriteByte(byte(code))
			}
		}
		t.Logf("learned %q from token %s; messages %v", learned.String(), f.idToks[victim], all)
		if learned.String() == f.ids[victim] {
			t.Errorf("LEAK (Close + Parse of the same name in one pipeline, Bind served with the old analysis): the real value %s was read character by character from its token %s", f.ids[victim], f.idToks[victim])
		}
	})

	// (a) The same with SQL DEALLOCATE in a Query pipelined before the Parse.
	t.Run("PipelinedDeallocateThenReParseSameName", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		victim := 17
		var learned strings.Builder
		for k := 1; k <= 18; k++ {
			name := fmt.Sprintf("rt2_dealloc_%d", k)
			if b1 := r.batch(t, &pgproto3.Parse{Name: name, Query: "SELECT id FROM t.people WHERE id_no = $1 AND id = $2::int"}, &pgproto3.Sync{}); len(b1.errors) > 0 {
				t.Fatalf("parse: %v", b1.all)
			}
			b := r.batch(t,
				&pgproto3.Query{String: "DEALLOCATE " + name},
				&pgproto3.Parse{Name: name, Query: "SELECT id FROM t.people WHERE id = ascii(substr($1::text, $2::int, 1))"},
				&pgproto3.Bind{PreparedStatement: name, Parameters: [][]byte{[]byte(f.idToks[victim]), []byte(fmt.Sprint(k))}},
				&pgproto3.Execute{},
				&pgproto3.Sync{})
			if len(b.rows) == 1 {
				var code int
				fmt.Sscan(b.rows[0][0], &code)
				learned.WriteByte(byte(code))
			}
		}
		t.Logf("learned %q", learned.String())
		if learned.String() == f.ids[victim] {
			t.Errorf("LEAK (DEALLOCATE + Parse of the same name in one pipeline): the real value %s was read from its token %s", f.ids[victim], f.idToks[victim])
		}
	})

	// (b)/(d) SQL EXECUTE of a protocol-prepared token search passes its
	// arguments to the comparison without detokenizing them.
	t.Run("SQLExecuteOfProtocolTokenSearch", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		if b := r.batch(t, &pgproto3.Parse{Name: "rt2_exec", Query: "SELECT id::text FROM t.people WHERE id_no = $1"}, &pgproto3.Sync{}); len(b.errors) > 0 {
			t.Fatalf("parse: %v", b.all)
		}
		run := func(g string) rtOut {
			b := r.batch(t, &pgproto3.Query{String: "EXECUTE rt2_exec('" + g + "')"})
			var o rtOut
			o.rows = b.rows
			if len(b.errors) > 0 {
				o.code = b.errors[0][:5]
			}
			return o
		}
		real, fake := run(f.ids[5]), run(f.fakeID)
		t.Logf("EXECUTE with the real value: %v %q; with a fake one: %v %q", real.rows, real.code, fake.rows, fake.code)
		sameAnswer(t, "EXECUTE name('<guess>') of a statement comparing $1 with a tokenized column", real, fake)
		// a literal EXECUTE sent as a Parse is not detokenized either
		b := r.batch(t,
			&pgproto3.Parse{Query: "EXECUTE rt2_exec('" + f.ids[7] + "')"},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		if fmt.Sprint(b.rows) == "[[8]]" {
			t.Errorf("CONFIRMATION ORACLE (Parse of EXECUTE name('<guess>')): the real value %s found row %v", f.ids[7], b.rows)
		}
		t.Logf("Parse of EXECUTE with a literal: %v", b.all)
		// (Parse "EXECUTE rt2_exec($1)" is refused by PostgreSQL itself.)
	})

	// (b) A set operation mixing a tokenized column with a literal or a
	// parameter is shown tokenized: pgmantle tokenizes any value the
	// analyst chooses, and tokens are deterministic, so a guess whose
	// token is among the column's tokens is a real value.
	t.Run("UnionAllTokenizesAnyGuess", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, tmpl := range []string{
			"SELECT id_no FROM t.people WHERE id = 0 UNION ALL SELECT '%s'",
			"SELECT x FROM (SELECT id_no AS x FROM t.people WHERE false UNION ALL VALUES ('%s')) s",
			"WITH RECURSIVE r(x) AS (SELECT '%s'::varchar UNION ALL SELECT id_no FROM t.people WHERE false) SELECT x FROM r",
		} {
			tok := c.simple(t, fmt.Sprintf(tmpl, f.ids[8]))
			fake := c.simple(t, fmt.Sprintf(tmpl, f.fakeID))
			t.Logf("%s: real guess -> %v %q; fake -> %v %q", tmpl, tok.rows, tok.code, fake.rows, fake.code)
			if len(tok.rows) == 1 && tokenOf[tok.rows[0][0]] {
				t.Errorf("CONFIRMATION ORACLE (%s): the guess %s came back as %s, a token the table holds (row %d's)", tmpl, f.ids[8], tok.rows[0][0], 9)
			}
		}
		// a bind parameter, and a batch of guesses in one query
		p := c.params(t, "SELECT id_no FROM t.people WHERE false UNION ALL SELECT $1::varchar", [][]byte{[]byte(f.ids[9])}, nil, nil)
		if len(p.rows) == 1 && p.rows[0][0] == f.idToks[9] {
			t.Errorf("CONFIRMATION ORACLE (UNION ALL SELECT $1): the guess %s came back as row 10's token", f.ids[9])
		}
		m := c.simple(t, fmt.Sprintf("SELECT mobile FROM t.people WHERE false UNION ALL VALUES ('13999999999'), ('%s'), ('13888888888')", f.mobiles[10]))
		for _, row := range m.rows {
			if row[0] == f.mobileToks[10] {
				t.Errorf("CONFIRMATION ORACLE (mobile UNION ALL VALUES): one of three guesses came back as row 11's token")
			}
		}
	})
	t.Run("UnionAllHashesAnyGuess", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		real := c.simple(t, "SELECT city FROM t.people WHERE id = 1 UNION ALL SELECT 'shanghai'")
		fake := c.simple(t, "SELECT city FROM t.people WHERE id = 1 UNION ALL SELECT 'beijing'")
		t.Logf("hash: real guess %v, fake guess %v", real.rows, fake.rows)
		if len(real.rows) == 2 && real.rows[0][0] == real.rows[1][0] && len(fake.rows) == 2 && fake.rows[0][0] != fake.rows[1][0] {
			t.Errorf("CONFIRMATION ORACLE (hash class, UNION ALL with a literal): the guess 'shanghai' hashes like row 1's city, 'beijing' does not")
		}
	})

	// =================================================================
	// DEFENDED (these pass)
	// =================================================================

	// Set operations that compare or group a tokenized column with a
	// literal are refused (contrast with UnionAllTokenizesAnyGuess).
	t.Run("SetOpsComparingWithLiteralRefused", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, tmpl := range []string{
			"SELECT count(*) FROM (SELECT id_no FROM t.people UNION SELECT '%s') s",
			"SELECT id_no FROM t.people INTERSECT SELECT '%s'",
			"SELECT count(*) FROM (SELECT id_no FROM t.people EXCEPT SELECT '%s') s",
			"SELECT DISTINCT x FROM (SELECT id_no AS x FROM t.people UNION ALL SELECT '%s') s",
			"SELECT count(DISTINCT x) FROM (SELECT id_no AS x FROM t.people UNION ALL SELECT '%s') s",
			"SELECT x, count(*) FROM (SELECT id_no AS x FROM t.people UNION ALL SELECT '%s') s GROUP BY x HAVING count(*) > 1",
			"SELECT id_no FROM t.people WHERE false UNION ALL SELECT name FROM t.people WHERE '%s' <> ''",
			"SELECT id_no FROM t.people WHERE false UNION ALL SELECT id_no || '%s' FROM t.people",
		} {
			sql := fmt.Sprintf(tmpl, f.ids[90])
			o := c.simple(t, sql)
			refused(t, sql, o)
			noLeak(t, sql, o.text())
		}
	})

	// Literal forms around the token: COLLATE, nested and truncating
	// casts. A real guess and a fake one get the same answer; the token
	// finds its row where the cast keeps the whole value.
	t.Run("CollateAndCastForms", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, form := range []struct {
			tmpl  string
			finds bool
		}{
			{`'%s' COLLATE "C"`, true},
			{`'%s'::text COLLATE "C"`, true},
			{`('%s' COLLATE "POSIX")::varchar`, true},
			{`(('%s')::varchar)::text`, true},
			{`CAST(CAST('%s' AS varchar(40)) AS text)`, true},
			{`'%s'::pg_catalog.text`, true},
			{`'%s'::"varchar"`, true},
			{`'%s'::name`, true},
			{`'%s'::bpchar`, true},
			{`'%s'::varchar(3)`, false},
			{`'%s'::char(5)`, false},
			{`'%s'::char`, false},
			{`varchar(17) '%s'`, false},
			{`'%s'::character varying(18)`, true},
		} {
			sql := "SELECT id::text FROM t.people WHERE id_no = " + form.tmpl
			tok := c.simple(t, fmt.Sprintf(sql, f.idToks[20]))
			if form.finds && fmt.Sprint(tok.rows) != "[[21]]" {
				t.Errorf("%s with the token: %v %v", form.tmpl, tok.rows, tok.err)
			}
			real := c.simple(t, fmt.Sprintf(sql, f.ids[20]))
			fake := c.simple(t, fmt.Sprintf(sql, f.fakeID))
			sameAnswer(t, form.tmpl, real, fake)
			noLeak(t, form.tmpl, tok.text()+real.text())
		}
		for _, sql := range []string{
			fmt.Sprintf(`SELECT id FROM t.people WHERE id_no = '%s'::"char"`, f.idToks[0]),
			fmt.Sprintf(`SELECT id FROM t.people WHERE id_no = '%s'::text[]`, f.idToks[0]),
			fmt.Sprintf(`SELECT id FROM t.people WHERE id_no = '%s'::public.text`, f.idToks[0]),
			fmt.Sprintf(`SELECT id FROM t.people WHERE id_no COLLATE "C" = '%s'`, f.idToks[0]),
			fmt.Sprintf(`SELECT id FROM t.people WHERE id_no::text = '%s'`, f.idToks[0]),
		} {
			o := c.simple(t, sql)
			noLeak(t, sql, o.text())
			if o.err == nil && len(o.rows) > 0 {
				t.Errorf("%s found rows %v", sql, o.rows)
			}
		}
	})

	// bpchar semantics: payroll.id_no is char(18); trailing blanks are
	// insignificant there.
	t.Run("BpcharPaddingOnCharColumn", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, tmpl := range []string{
			"SELECT count(*)::text FROM t.payroll WHERE id_no = '%s   '",
			"SELECT count(*)::text FROM t.payroll WHERE id_no = '%s'::char(20)",
			"SELECT count(*)::text FROM t.payroll WHERE id_no = '%s'::char(17)",
			"SELECT count(*)::text FROM t.payroll WHERE id_no = '%s'::varchar",
			"SELECT count(*)::text FROM t.payroll WHERE id_no IN ('%s', '')",
		} {
			tok := c.simple(t, fmt.Sprintf(tmpl, f.idToks[5]))
			real := c.simple(t, fmt.Sprintf(tmpl, f.ids[5]))
			fake := c.simple(t, fmt.Sprintf(tmpl, f.fakeID))
			sameAnswer(t, tmpl, real, fake)
			noLeak(t, tmpl, tok.text()+real.text())
			t.Logf("%s: token %v real %v", tmpl, tok.rows, real.rows)
		}
	})

	// Normalisation of the literal before detokenizing: blanks, full-width
	// digits, a lower-case x, separators.
	t.Run("NormalisedLiterals", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		xReal, xTok := ids[xRow], f.idToks[xRow]
		fakeX := "11010119900101127X"
		for _, v := range []struct{ name, real, fake, tok string }{
			{"leading blank", " " + f.ids[30], " " + f.fakeID, " " + f.idToks[30]},
			{"trailing blank", f.ids[30] + " ", f.fakeID + " ", f.idToks[30] + " "},
			{"full-width", fullWidth(f.ids[30]), fullWidth(f.fakeID), fullWidth(f.idToks[30])},
			{"lower-case x", strings.ToLower(xReal), strings.ToLower(fakeX), strings.ToLower(xTok)},
			{"dashes", f.ids[30][:6] + "-" + f.ids[30][6:], f.fakeID[:6] + "-" + f.fakeID[6:], f.idToks[30][:6] + "-" + f.idToks[30][6:]},
			{"tab", f.ids[30] + "\t", f.fakeID + "\t", f.idToks[30] + "\t"},
		} {
			q := func(s string) rtOut {
				return c.simple(t, "SELECT id::text FROM t.people WHERE id_no = '"+s+"'")
			}
			tok := q(v.tok)
			t.Logf("%s: token -> %v %q", v.name, tok.rows, tok.code)
			sameAnswer(t, v.name, q(v.real), q(v.fake))
			noLeak(t, v.name, tok.text())
			p := func(s string) rtOut {
				return c.params(t, "SELECT id::text FROM t.people WHERE id_no = $1", [][]byte{[]byte(s)}, nil, nil)
			}
			sameAnswer(t, v.name+" (param)", p(v.real), p(v.fake))
		}
	})

	// Tokens and real values of one class used on a column of another.
	t.Run("CrossClassTokens", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, q := range []struct{ col, real, fake, tok string }{
			{"mobile", f.ids[2], f.fakeID, f.idToks[2]},
			{"id_no", f.mobiles[2], "13999999999", f.mobileToks[2]},
			{"card", f.mobiles[2], "13999999999", f.mobileToks[2]},
			{"mobile", f.cards[2], "6222021000000000", f.cardToks[2]},
		} {
			sql := "SELECT id::text FROM t.people WHERE " + q.col + " = '%s'"
			sameAnswer(t, q.col, c.simple(t, fmt.Sprintf(sql, q.real)), c.simple(t, fmt.Sprintf(sql, q.fake)))
			noLeak(t, q.col, c.simple(t, fmt.Sprintf(sql, q.tok)).text())
		}
		for _, sql := range []string{
			fmt.Sprintf("SELECT v FROM (SELECT id_no AS v FROM t.people UNION ALL SELECT mobile FROM t.people) s WHERE v = '%s'", f.idToks[2]),
			fmt.Sprintf("SELECT 1 FROM (SELECT id_no AS v FROM t.people UNION ALL SELECT mobile FROM t.people) s WHERE v IN ('%s')", f.idToks[2]),
			fmt.Sprintf("SELECT 1 FROM (SELECT id_no AS v FROM t.people UNION ALL SELECT city FROM t.people) s WHERE v = '%s'", f.idToks[2]),
			fmt.Sprintf("SELECT 1 FROM (SELECT id_no AS v FROM t.people UNION ALL SELECT '%s') s WHERE v = '%s'", f.ids[2], f.idToks[2]),
			fmt.Sprintf("SELECT 1 FROM t.people WHERE city = '%s'", "shanghai"),
			fmt.Sprintf("SELECT 1 FROM t.people WHERE name = '%s'", "王伟"),
		} {
			o := c.simple(t, sql)
			refused(t, sql, o)
			noLeak(t, sql, o.text())
		}
		// one column of a UNION ALL of the same class in two tables
		sql := fmt.Sprintf("SELECT count(*)::text FROM (SELECT id_no::text AS v FROM t.people UNION ALL SELECT id_no::text FROM t.payroll) s WHERE v = '%s'", f.idToks[5])
		noLeak(t, sql, c.simple(t, sql).text())
	})

	// Row counts and command tags of DML and negated searches.
	t.Run("DMLAndNegatedCounts", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, tmpl := range []string{
			"UPDATE t.people SET city = city WHERE id_no = '%s' RETURNING id",
			"UPDATE t.people SET city = city WHERE id_no = '%s'",
			"DELETE FROM t.people WHERE id_no = '%s'",
			"DELETE FROM t.payroll WHERE id_no IN ('%s')",
			"SELECT id::text FROM t.people WHERE id_no = '%s' FOR UPDATE",
			"SELECT count(*)::text FROM t.people WHERE id_no <> '%s'",
			"SELECT count(*)::text FROM t.people WHERE NOT (id_no = '%s')",
			"SELECT count(*)::text FROM t.people WHERE id_no NOT IN ('%s')",
			"SELECT count(*)::text FROM t.people WHERE id_no IS DISTINCT FROM '%s'",
			"SELECT count(*)::text FROM t.payroll WHERE id_no != '%s'",
			"SELECT (id_no = '%s')::text AS hit FROM t.people WHERE id = 41",
			"SELECT count(*) FILTER (WHERE id_no = '%s')::text FROM t.people",
			"SELECT id::text FROM t.people WHERE '%s' = id_no",
			"SELECT id::text FROM t.people WHERE '%s' IN (SELECT id_no FROM t.people) AND id = 1",
			"SELECT id::text FROM t.people WHERE '%s' = (SELECT id_no FROM t.people WHERE id = 41)",
			"SELECT id::text FROM t.people WHERE '%s' <> ALL (SELECT id_no FROM t.people) AND id = 1",
			"SELECT id::text FROM t.people WHERE id_no = '%s' LIMIT 1 OFFSET 0",
		} {
			real := c.simple(t, fmt.Sprintf(tmpl, f.ids[40]))
			fake := c.simple(t, fmt.Sprintf(tmpl, f.fakeID))
			sameAnswer(t, tmpl, real, fake)
			if tags(real) != tags(fake) {
				t.Errorf("CONFIRMATION ORACLE (command tag, %s): real %s fake %s", tmpl, tags(real), tags(fake))
			}
			tok := c.simple(t, fmt.Sprintf(tmpl, f.idToks[40]))
			noLeak(t, tmpl, tok.text()+real.text())
			t.Logf("%s: token %v %q, real %v %q", tmpl, tok.rows, tok.code, real.rows, real.code)
		}
	})

	// IN lists: duplicates, a guess hidden in a long list, the token found
	// in a long list.
	t.Run("InListsDuplicatesAndLong", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		dup := c.simple(t, fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no IN ('%s', '%s', $$%s$$)", f.idToks[50], f.idToks[50], f.idToks[50]))
		if fmt.Sprint(dup.rows) != "[[51]]" {
			t.Errorf("duplicates: %v %v", dup.rows, dup.err)
		}
		long := func(extra string) rtOut {
			var b strings.Builder
			b.WriteString("SELECT id::text FROM t.people WHERE id_no IN (")
			for i := range 3000 {
				fmt.Fprintf(&b, "'%017d%d', ", 10000000000000000+i*7, i%10)
			}
			b.WriteString("'" + extra + "')")
			return c.simple(t, b.String())
		}
		sameAnswer(t, "long IN list", long(f.ids[51]), long(f.fakeID))
		tok := long(f.idToks[51])
		if fmt.Sprint(tok.rows) != "[[52]]" {
			t.Errorf("long IN list with the token: %v %v", tok.rows, tok.err)
		}
		noLeak(t, "long IN", tok.text())
		// bind parameters in a long list
		var b strings.Builder
		var args [][]byte
		b.WriteString("SELECT id::text FROM t.people WHERE id_no IN (")
		for i := 1; i <= 500; i++ {
			if i > 1 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", i)
			args = append(args, []byte(f.fakeID))
		}
		b.WriteString(")")
		args[499] = []byte(f.ids[52])
		real := c.params(t, b.String(), args, nil, nil)
		args[499] = []byte(f.fakeID)
		fake := c.params(t, b.String(), args, nil, nil)
		sameAnswer(t, "500 bind parameters", real, fake)
	})

	// Extended-protocol flows that do not break the Parse/Bind pairing.
	t.Run("ExtendedProtocolFlows", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		q := "SELECT id::text FROM t.people WHERE id_no = $1"
		// Describe before Bind, re-binding one name with several tokens and
		// a real value, portal suspension.
		b := r.batch(t,
			&pgproto3.Parse{Name: "rt2_s", Query: q},
			&pgproto3.Describe{ObjectType: 'S', Name: "rt2_s"},
			&pgproto3.Bind{PreparedStatement: "rt2_s", Parameters: [][]byte{[]byte(f.idToks[60])}},
			&pgproto3.Execute{MaxRows: 1},
			&pgproto3.Execute{MaxRows: 1},
			&pgproto3.Bind{PreparedStatement: "rt2_s", Parameters: [][]byte{[]byte(f.ids[61])}},
			&pgproto3.Execute{},
			&pgproto3.Bind{PreparedStatement: "rt2_s", Parameters: [][]byte{[]byte(f.idToks[62])}},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		if fmt.Sprint(b.rows) != "[[61] [63]]" {
			t.Errorf("re-binding: %v %v", b.rows, b.errors)
		}
		noLeak(t, "re-binding", strings.Join(b.all, "\n"))
		// Parse and Bind across two Syncs; Sync-less Flush.
		r.batch(t, &pgproto3.Parse{Name: "rt2_t", Query: "SELECT $1::text AS v"}, &pgproto3.Sync{})
		b = r.batch(t, &pgproto3.Parse{Name: "rt2_t", Query: q}, &pgproto3.Sync{})
		b2 := r.batch(t, &pgproto3.Bind{PreparedStatement: "rt2_t", Parameters: [][]byte{[]byte(f.idToks[63])}}, &pgproto3.Execute{}, &pgproto3.Sync{})
		noLeak(t, "re-Parse of an existing name in another batch", strings.Join(append(b.all, b2.all...), "\n"))
		o := r.untilComplete(t,
			&pgproto3.Parse{Name: "rt2_u", Query: q},
			&pgproto3.Bind{PreparedStatement: "rt2_u", Parameters: [][]byte{[]byte(f.idToks[64])}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Flush{})
		if fmt.Sprint(o.rows) != "[[65]]" {
			t.Errorf("Flush without Sync: %v", o.all)
		}
		o = r.untilComplete(t,
			&pgproto3.Bind{PreparedStatement: "rt2_u", Parameters: [][]byte{[]byte(f.ids[64])}},
			&pgproto3.Execute{},
			&pgproto3.Flush{})
		if len(o.rows) != 0 {
			t.Errorf("Flush without Sync, real value found %v", o.rows)
		}
		r.batch(t, &pgproto3.Sync{})
		// Close between Parse and Bind; the unnamed statement replaced in
		// the same batch.
		b = r.batch(t,
			&pgproto3.Parse{Name: "rt2_v", Query: q},
			&pgproto3.Close{ObjectType: 'S', Name: "rt2_v"},
			&pgproto3.Bind{PreparedStatement: "rt2_v", Parameters: [][]byte{[]byte(f.idToks[66])}},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		noLeak(t, "Close between Parse and Bind", strings.Join(b.all, "\n"))
		b = r.batch(t,
			&pgproto3.Parse{Query: q},
			&pgproto3.Parse{Query: "SELECT $1::text AS v"},
			&pgproto3.Bind{Parameters: [][]byte{[]byte(f.idToks[67])}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		noLeak(t, "unnamed statement replaced in the batch", strings.Join(b.all, "\n"))
		// FunctionCall
		b = r.batch(t, &pgproto3.FunctionCall{Function: 1317, Arguments: [][]byte{[]byte(f.idToks[68])}, ResultFormatCode: 0}, &pgproto3.Sync{})
		if len(b.errors) == 0 || !strings.HasPrefix(b.errors[0], "42501") {
			t.Errorf("FunctionCall: %v", b.all)
		}
	})

	// Binary and odd parameter bytes.
	t.Run("OddParameterBytes", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		q := "SELECT id::text FROM t.people WHERE id_no = $1"
		for _, v := range []struct {
			name       string
			real, fake []byte
		}{
			{"NUL", []byte(f.ids[70] + "\x00"), []byte(f.fakeID + "\x00")},
			{"invalid UTF-8", append([]byte(f.ids[70]), 0xff), append([]byte(f.fakeID), 0xff)},
			{"empty", []byte(""), []byte("")},
			{"overlong", []byte(strings.Repeat(f.ids[70], 10)), []byte(strings.Repeat(f.fakeID, 10))},
		} {
			for _, format := range []int16{0, 1} {
				real := c.params(t, q, [][]byte{v.real}, nil, []int16{format})
				fake := c.params(t, q, [][]byte{v.fake}, nil, []int16{format})
				sameAnswer(t, fmt.Sprintf("%s format %d", v.name, format), real, fake)
				noLeak(t, v.name, real.text())
			}
		}
	})

	// $n numbering and $n inside comments and strings.
	t.Run("ParamNumberingAndHiddenDollars", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, sql := range []string{
			"SELECT id::text FROM t.people WHERE id_no = $01",
			"SELECT id::text FROM t.people WHERE id_no = $1 /* $1 */ AND '$1' <> $$ $1 $$ -- $1\n",
			"SELECT id::text FROM t.people WHERE id_no = $1::varchar COLLATE \"C\"",
			"SELECT id::text FROM t.people WHERE id_no IN ($1, $1) AND id_no = $1",
		} {
			tok := c.params(t, sql, [][]byte{[]byte(f.idToks[72])}, nil, nil)
			if fmt.Sprint(tok.rows) != "[[73]]" {
				t.Errorf("%q with the token: %v %v", sql, tok.rows, tok.err)
			}
			sameAnswer(t, sql, c.params(t, sql, [][]byte{[]byte(f.ids[72])}, nil, nil), c.params(t, sql, [][]byte{[]byte(f.fakeID)}, nil, nil))
		}
		for _, sql := range []string{
			"SELECT id::text FROM t.people WHERE id_no = $1 AND $01 LIKE '3%'",
			"SELECT $001::text AS v FROM t.people WHERE id_no = $1",
			"SELECT id::text FROM t.people WHERE id_no = $1 ORDER BY $1",
			"SELECT id::text FROM t.people WHERE id_no = $1 LIMIT length($1)",
		} {
			o := c.params(t, sql, [][]byte{[]byte(f.idToks[72])}, nil, nil)
			refused(t, sql, o)
			noLeak(t, sql, o.text())
		}
		// more parameters declared than used; a Bind with too many
		o := c.params(t, "SELECT id::text FROM t.people WHERE id_no = $2", [][]byte{[]byte(f.idToks[73]), []byte(f.idToks[73])}, []uint32{25, 25}, nil)
		noLeak(t, "$2 only", o.text())
		if fmt.Sprint(o.rows) != "[[74]]" {
			t.Errorf("$2 only: %v %v", o.rows, o.err)
		}
	})

	// A GBK session with full-width tokens; client_encoding changes.
	t.Run("GBKFullWidthAndEncodingChanges", func(t *testing.T) {
		g := rtDial(t, addr, db, map[string]string{"client_encoding": "GBK"})
		enc := simplifiedchinese.GBK.NewEncoder()
		run := func(v string) rtOut {
			sql, err := enc.String("SELECT '中文' AS x, id::text FROM t.people WHERE id_no = '" + v + "'")
			if err != nil {
				t.Fatal(err)
			}
			return g.simple(t, sql)
		}
		tok := run(fullWidth(f.idToks[80]))
		if len(tok.rows) != 1 || tok.rows[0][1] != "81" {
			t.Errorf("full-width token in GBK: %v %v", tok.rows, tok.err)
		}
		sameAnswer(t, "GBK full-width", run(fullWidth(f.ids[80])), run(fullWidth(f.fakeID)))
		p := func(v string) rtOut {
			b, _ := enc.String(v)
			return g.params(t, "SELECT id::text FROM t.people WHERE id_no = $1", [][]byte{[]byte(b)}, nil, nil)
		}
		sameAnswer(t, "GBK full-width param", p(fullWidth(f.ids[81])), p(fullWidth(f.fakeID)))
		noLeak(t, "GBK", tok.text())
		c := rtDial(t, addr, db, nil)
		for _, sql := range []string{
			"SET client_encoding = 'GBK'",
			"SET SESSION client_encoding TO 'LATIN1'",
			"SET LOCAL client_encoding = 'GBK'",
			"SET NAMES 'GBK'",
			"RESET client_encoding",
			"SELECT set_config('client_encoding', 'GBK', false)",
			"SELECT pg_catalog.set_config('standard_conforming_strings', 'off', true)",
		} {
			refused(t, sql, c.simple(t, sql))
		}
	})
}
