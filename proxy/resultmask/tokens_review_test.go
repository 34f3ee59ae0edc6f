package resultmask_test

// Red-team tests of search by token: a restricted role must not learn a
// real value of a tokenized column, nor confirm a guessed one, nor make
// pgmantle put a detokenized value anywhere but the comparison with the
// tokenized column. Every subtest FAILS when its attack succeeds.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// rtConn is an analyst connection that records every notice it receives.
type rtConn struct {
	pc      *pgconn.PgConn
	mu      sync.Mutex
	notices []string
}

func rtDial(t *testing.T, addr, db string, params map[string]string) *rtConn {
	t.Helper()
	cfg, err := pgconn.ParseConfig("postgres://analyst:" + password + "@" + addr + "/" + db + "?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	c := &rtConn{}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		c.mu.Lock()
		c.notices = append(c.notices, n.Message+"|"+n.Detail+"|"+n.Hint+"|"+n.Where)
		c.mu.Unlock()
	}
	c.pc, err = pgconn.ConnectConfig(pgtest.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.pc.Close(context.Background()) })
	return c
}

// rtOut is everything a client received for one request, flattened.
type rtOut struct {
	rows  [][]string // of the last result set
	all   []string   // every value of every result set, tags, errors, notices
	err   error
	code  string
	empty bool
}

func (o rtOut) text() string { return strings.Join(o.all, "\n") }

func errText(err error) (string, string) {
	if err == nil {
		return "", ""
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, strings.Join([]string{pe.Code, pe.Message, pe.Detail, pe.Hint, pe.Where, pe.InternalQuery,
			pe.SchemaName, pe.TableName, pe.ColumnName, pe.DataTypeName, pe.ConstraintName}, "|")
	}
	return "", err.Error()
}

func (c *rtConn) takeNotices() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.notices
	c.notices = nil
	return n
}

// simple runs a simple Query (possibly several statements).
func (c *rtConn) simple(t *testing.T, sql string) rtOut {
	t.Helper()
	res, err := c.pc.Exec(pgtest.Context(t), sql).ReadAll()
	var o rtOut
	for _, r := range res {
		o.rows = nil
		for _, row := range r.Rows {
			var vs []string
			for _, v := range row {
				vs = append(vs, string(v))
				o.all = append(o.all, string(v))
			}
			o.rows = append(o.rows, vs)
		}
		o.all = append(o.all, r.CommandTag.String())
		if r.Err != nil && err == nil {
			err = r.Err
		}
	}
	o.err = err
	var et string
	o.code, et = errText(err)
	if err != nil && o.code == "" {
		t.Errorf("connection-level failure (not a statement error) for %q: %v", sql, err)
	}
	o.all = append(o.all, et)
	o.all = append(o.all, c.takeNotices()...)
	return o
}

// params runs one statement over the extended protocol (unnamed
// statement), parameters in text format unless formats says otherwise.
func (c *rtConn) params(t *testing.T, sql string, args [][]byte, oids []uint32, formats []int16) rtOut {
	t.Helper()
	r := c.pc.ExecParams(pgtest.Context(t), sql, args, oids, formats, nil).Read()
	var o rtOut
	for _, row := range r.Rows {
		var vs []string
		for _, v := range row {
			vs = append(vs, string(v))
			o.all = append(o.all, string(v))
		}
		o.rows = append(o.rows, vs)
	}
	o.all = append(o.all, r.CommandTag.String())
	o.err = r.Err
	var et string
	o.code, et = errText(r.Err)
	if r.Err != nil && o.code == "" {
		t.Errorf("connection-level failure (not a statement error) for %q: %v", sql, r.Err)
	}
	o.all = append(o.all, et)
	o.all = append(o.all, c.takeNotices()...)
	return o
}

// rtRaw is a hijacked analyst connection for hand-made protocol flows.
type rtRaw struct {
	conn interface {
		SetDeadline(time.Time) error
	}
	fe *pgproto3.Frontend
}

func rtDialRaw(t *testing.T, addr, db string) *rtRaw {
	t.Helper()
	c := rtDial(t, addr, db, nil)
	hc, err := c.pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hc.Conn.Close() })
	return &rtRaw{conn: hc.Conn, fe: hc.Frontend}
}

// rtRawOut is what came back for a batch of messages.
type rtRawOut struct {
	rows   [][]string
	errors []string // "CODE message"
	all    []string
}

// batch sends msgs and reads until as many ReadyForQuery as it sent Sync
// or Query messages.
func (r *rtRaw) batch(t *testing.T, msgs ...pgproto3.FrontendMessage) rtRawOut {
	t.Helper()
	want := 0
	for _, m := range msgs {
		switch m.(type) {
		case *pgproto3.Sync, *pgproto3.Query:
			want++
		}
		r.fe.Send(m)
	}
	if err := r.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	r.conn.SetDeadline(time.Now().Add(30 * time.Second))
	var o rtRawOut
	for want > 0 {
		m, err := r.fe.Receive()
		if err != nil {
			o.all = append(o.all, "connection ended: "+err.Error())
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
			e := m.Code + " " + m.Message
			o.errors = append(o.errors, e)
			o.all = append(o.all, e+"|"+m.Detail+"|"+m.Hint+"|"+m.Where)
		case *pgproto3.NoticeResponse:
			o.all = append(o.all, m.Message+"|"+m.Detail)
		case *pgproto3.CommandComplete:
			o.all = append(o.all, string(m.CommandTag))
		case *pgproto3.ReadyForQuery:
			want--
		}
	}
	return o
}

// rtFixture is the data the attacks work with.
type rtFixture struct {
	addr, db   string
	ids        []string // real ID numbers, by id-1
	idToks     []string // the analyst's tokens of them
	mobiles    []string // real
	mobileToks []string
	cards      []string // real
	cardToks   []string
	fakeID     string // a valid ID number no one has
}

// leak returns a real protected value found in s, or "".
// readTokens reads the tokens the analyst sees and the real values beside
// them, and checks that no token equals its value.
func (f *rtFixture) readTokens(t *testing.T, analyst, direct *pgx.Conn) {
	t.Helper()
	f.idToks = oneColumn(t, analyst, "SELECT id_no FROM t.people ORDER BY id")
	f.mobileToks = oneColumn(t, analyst, "SELECT mobile FROM t.people ORDER BY id")
	f.cardToks = oneColumn(t, analyst, "SELECT card FROM t.people ORDER BY id")
	f.mobiles = oneColumn(t, direct, "SELECT mobile FROM t.people ORDER BY id")
	f.cards = oneColumn(t, direct, "SELECT card FROM t.people ORDER BY id")
	f.fakeID = "11010119900101123" + string(checkChar("11010119900101123"))
	for i := range f.ids {
		if f.idToks[i] == f.ids[i] || f.mobileToks[i] == f.mobiles[i] || f.cardToks[i] == f.cards[i] {
			t.Fatalf("row %d: token equals the real value", i+1)
		}
	}
}

// noLeak fails if anything the client received holds a real value.
func (f *rtFixture) noLeak(t *testing.T, what, o string) {
	t.Helper()
	if v := f.leak(o); v != "" {
		t.Errorf("LEAK (%s): the real value %s reached the client:\n%s", what, v, o)
	}
}

// rtRefused fails unless the statement was refused with 42501.
func rtRefused(t *testing.T, sql string, o rtOut) {
	t.Helper()
	if o.code != "42501" {
		t.Errorf("want 42501 for %q; got code %q rows %v err %v", sql, o.code, o.rows, o.err)
	}
}

// rtSameAnswer fails if a real guess and a fake one get different answers
// (rows or error code).
func rtSameAnswer(t *testing.T, what string, real, fake rtOut) {
	t.Helper()
	if fmt.Sprint(real.rows) != fmt.Sprint(fake.rows) || real.code != fake.code {
		t.Errorf("CONFIRMATION ORACLE (%s): real guess -> rows %v code %q; fake guess -> rows %v code %q",
			what, real.rows, real.code, fake.rows, fake.code)
	}
}

func (f *rtFixture) leak(s string) string {
	for _, list := range [][]string{f.ids, f.mobiles, f.cards} {
		for _, v := range list {
			if strings.Contains(s, v) {
				return v
			}
		}
	}
	return ""
}

func TestTokensReview(t *testing.T) {
	_, km := vaultKeys(t)
	addr, db, ids := tokenProxy(t, km, "")
	direct := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	analyst := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	f := &rtFixture{addr: addr, db: db, ids: ids}
	f.readTokens(t, analyst, direct)
	ctx := pgtest.Context(t)

	noLeak := f.noLeak
	refused := rtRefused
	sameAnswer := rtSameAnswer
	// ---------------------------------------------------------------
	// (a)/(c): a literal or parameter that reaches the comparison through
	// a subquery or CTE column is detokenized in place, and the same
	// column can also be selected.
	// ---------------------------------------------------------------
	t.Run("SubqueryColumnLiteralJoinedAndOutput", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		sql := fmt.Sprintf("SELECT s.v FROM (SELECT '%s'::text AS v) s LEFT JOIN t.people p ON p.id_no = s.v", f.idToks[4])
		o := c.simple(t, sql)
		noLeak(t, sql, o.text())
	})
	t.Run("SubqueryColumnLiteralInSubLink", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		sql := fmt.Sprintf("SELECT v FROM (SELECT '%s' AS v) s WHERE v IN (SELECT id_no FROM t.people)", f.idToks[7])
		o := c.simple(t, sql)
		noLeak(t, sql, o.text())
	})
	t.Run("CTEColumnLiteralOutputAndCompared", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		sql := fmt.Sprintf("WITH c(v) AS (SELECT '%s'::text) SELECT v, (SELECT count(*) FROM t.people WHERE mobile = c.v) AS n FROM c", f.mobileToks[11])
		o := c.simple(t, sql)
		noLeak(t, sql, o.text())
	})
	t.Run("CTEUsedInTwoBranchesOfUnion", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		sql := fmt.Sprintf("WITH c AS (SELECT '%s'::text AS v) SELECT v FROM c UNION ALL SELECT id::text FROM t.people WHERE id_no = (SELECT v FROM c)", f.idToks[20])
		o := c.simple(t, sql)
		noLeak(t, sql, o.text())
	})
	t.Run("LateralColumnLiteralCard", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		sql := fmt.Sprintf("SELECT s.v FROM t.people p, LATERAL (SELECT '%s'::text AS v) s WHERE p.card = s.v", f.cardToks[30])
		o := c.simple(t, sql)
		noLeak(t, sql, o.text())
	})
	t.Run("SubqueryColumnParamJoinedAndOutput", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		sql := "SELECT s.v FROM (SELECT $1::text AS v) s LEFT JOIN t.people p ON p.id_no = s.v"
		o := c.params(t, sql, [][]byte{[]byte(f.idToks[9])}, nil, nil)
		noLeak(t, sql, o.text())
	})
	t.Run("SubqueryColumnInAnotherPredicate", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		// The detokenized value is tested by LIKE: a predicate on the real
		// value. A prefix of the real value must give the same answer as a
		// prefix nobody has.
		q := func(prefix string) rtOut {
			return c.simple(t, fmt.Sprintf("SELECT count(*)::text FROM (SELECT '%s'::text AS v) s WHERE s.v LIKE '%s%%' AND EXISTS (SELECT 1 FROM t.people WHERE id_no = s.v)", f.idToks[15], prefix))
		}
		real, fake := q(f.ids[15][:14]), q("99999")
		sameAnswer(t, "LIKE on detokenized CTE value", real, fake)
	})

	// ---------------------------------------------------------------
	// (d): the literal pgmantle rewrites is not the constant PostgreSQL
	// compares: string continuation across a comment or a lone CR.
	// ---------------------------------------------------------------
	continuation := []struct{ name, sep string }{
		{"CommentContinuation", " -- pgmantle sees two strings\n"},
		{"CRContinuation", " \r "},
		{"CommentOnlyContinuation", "--\n"},
		{"VerticalTabContinuation(PG16+)", "\n\v"}, // \v is white space from PostgreSQL 16
	}
	for _, cc := range continuation {
		t.Run(cc.name, func(t *testing.T) {
			c := rtDial(t, addr, db, nil)
			q := func(guess string) rtOut {
				return c.simple(t, "SELECT id::text FROM t.people WHERE id_no = ''"+cc.sep+"'"+guess+"'")
			}
			real, fake := q(f.ids[4]), q(f.fakeID)
			t.Logf("real: rows %v err %v; fake: rows %v err %v", real.rows, real.err, fake.rows, fake.err)
			sameAnswer(t, fmt.Sprintf("id_no = ''%q'<guess>'", cc.sep), real, fake)
			// and with IN
			qi := func(guess string) rtOut {
				return c.simple(t, "SELECT id::text FROM t.people WHERE mobile IN ('"+f.mobileToks[0]+"', ''"+cc.sep+"'"+guess+"')")
			}
			sameAnswer(t, "mobile IN (tok, ''<sep>'<guess>')", qi(f.mobiles[3]), qi("13999999999"))
		})
	}
	t.Run("PlainNewlineContinuationRefused", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		sql := "SELECT id::text FROM t.people WHERE id_no = ''\n'" + f.ids[4] + "'"
		refused(t, sql, c.simple(t, sql))
	})

	// ---------------------------------------------------------------
	// (d)/(a): the statement pgmantle thinks a Bind binds is not the one
	// PostgreSQL binds, so a detokenized parameter lands in SELECT $1.
	// ---------------------------------------------------------------
	t.Run("UnnamedStatementKeptWhenParseSkippedAfterError", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		r.batch(t, &pgproto3.Parse{Query: "SELECT $1::text AS v"}, &pgproto3.Sync{})
		// An error (here pgmantle's own refusal) makes PostgreSQL skip the
		// next Parse up to Sync; pgmantle records it as pending anyway.
		b2 := r.batch(t,
			&pgproto3.Parse{Name: "rt_err", Query: "SELECT id FROM t.people WHERE id_no LIKE '3%'"},
			&pgproto3.Parse{Query: "SELECT id::text AS v FROM t.people WHERE id_no = $1"},
			&pgproto3.Sync{})
		if len(b2.errors) == 0 {
			t.Fatalf("expected the first Parse to fail: %v", b2.all)
		}
		b3 := r.batch(t,
			&pgproto3.Bind{Parameters: [][]byte{[]byte(f.idToks[12])}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		noLeak(t, "Bind of the unnamed statement after a skipped Parse", strings.Join(b3.all, "\n"))
	})
	t.Run("LongStatementNamesCollide", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		base := strings.Repeat("s", 63)
		// An echo of the real value with no origin is caught by the result
		// layer (the statement pgmantle believes in reads protected data);
		// a result of table columns is not. X selects the row whose id is
		// the character code of character $2 of the real value.
		b1 := r.batch(t, &pgproto3.Parse{Name: base + "_x", Query: "SELECT id FROM t.people WHERE id = ascii(substr($1::text, $2::int, 1))"}, &pgproto3.Sync{})
		if len(b1.errors) > 0 {
			t.Fatalf("parse X: %v", b1.errors)
		}
		// PostgreSQL keys prepared statements by their first 63 bytes:
		// this Parse fails (42P05, already exists) but pgmantle files the
		// name as pending with this analysis, and serves its Binds by it.
		b2 := r.batch(t, &pgproto3.Parse{Name: base + "_y", Query: "SELECT id FROM t.people WHERE id_no = $1 AND id = $2::int"}, &pgproto3.Sync{})
		t.Logf("second Parse: %v", b2.errors)
		victim := 13
		var learned strings.Builder
		var all []string
		for k := 1; k <= 18; k++ {
			b := r.batch(t,
				&pgproto3.Bind{PreparedStatement: base + "_y", Parameters: [][]byte{[]byte(f.idToks[victim]), []byte(fmt.Sprint(k))}},
				&pgproto3.Execute{},
				&pgproto3.Sync{})
			all = append(all, b.all...)
			if len(b.rows) == 1 {
				var code int
				fmt.Sscan(b.rows[0][0], &code)
				learned.WriteByte(byte(code))
			}
		}
		t.Logf("learned from token %s: %q (real %s); messages %v", f.idToks[victim], learned.String(), f.ids[victim], all)
		if learned.String() == f.ids[victim] {
			t.Errorf("LEAK (Bind of a 64+-byte statement name whose first 63 bytes name another statement): the real value %s was read character by character from its token %s", f.ids[victim], f.idToks[victim])
		}
		noLeak(t, "Bind of a 64+-byte statement name", strings.Join(all, "\n"))
	})
	t.Run("PipelinedReParseSameName", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		b := r.batch(t,
			&pgproto3.Parse{Name: "rt_twice", Query: "SELECT $1::text AS v"},
			&pgproto3.Parse{Name: "rt_twice", Query: "SELECT id::text AS v FROM t.people WHERE id_no = $1"},
			&pgproto3.Sync{},
		)
		t.Logf("pipelined re-Parse: %v", b.errors)
		b2 := r.batch(t,
			&pgproto3.Bind{PreparedStatement: "rt_twice", Parameters: [][]byte{[]byte(f.idToks[14])}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		t.Logf("bind after re-Parse: %v", b2.all)
		noLeak(t, "re-Parse of a name", strings.Join(b2.all, "\n"))
	})
	t.Run("NamedPipelinedParseBindDescribe", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		b := r.batch(t,
			&pgproto3.Parse{Name: "rt_named", Query: "SELECT id::text AS v FROM t.people WHERE id_no = $1 OR mobile = $2"},
			&pgproto3.Describe{ObjectType: 'S', Name: "rt_named"},
			&pgproto3.Bind{PreparedStatement: "rt_named", Parameters: [][]byte{[]byte(f.idToks[16]), []byte(f.mobileToks[17])}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Bind{PreparedStatement: "rt_named", Parameters: [][]byte{[]byte(f.ids[18]), []byte(f.mobiles[19])}},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		noLeak(t, "pipelined named statement", strings.Join(b.all, "\n"))
		if fmt.Sprint(b.rows) != "[[17] [18]]" {
			t.Errorf("token search found %v (want 17, 18 and nothing for the real values); errors %v", b.rows, b.errors)
		}
	})

	// ---------------------------------------------------------------
	// (b): error oracles on the detokenized value.
	// ---------------------------------------------------------------
	t.Run("CastErrorOracleRevealsCheckCharacter", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		var withX, errs []int
		for i, tok := range f.idToks {
			o := c.simple(t, fmt.Sprintf("SELECT count(*)::text FROM t.people WHERE id_no = '%s'::int8::text", tok))
			noLeak(t, "int8 cast", o.text())
			if strings.HasSuffix(f.ids[i], "X") {
				withX = append(withX, i+1)
			}
			if o.err != nil {
				errs = append(errs, i+1)
			}
		}
		if len(errs) > 0 && len(errs) < len(f.idToks) {
			t.Errorf("ORACLE: '<token>'::int8 fails for rows %v only; the real IDs ending in X are rows %v", errs, withX)
		}
	})
	t.Run("CastErrorOracleWithInt8Param", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		var errs, withX []int
		for i, tok := range f.idToks[:40] {
			o := c.params(t, "SELECT count(*)::text FROM t.people WHERE id_no = $1::text", [][]byte{[]byte(tok)}, []uint32{20}, nil)
			noLeak(t, "int8 param", o.text())
			if o.err != nil {
				errs = append(errs, i+1)
			}
			if strings.HasSuffix(f.ids[i], "X") {
				withX = append(withX, i+1)
			}
		}
		if len(errs) > 0 && len(errs) < 40 {
			t.Errorf("ORACLE: int8 parameter fails for rows %v only; real IDs ending in X: %v", errs, withX)
		}
	})

	// ---------------------------------------------------------------
	// Attacks that are defended (these pass).
	// ---------------------------------------------------------------
	t.Run("MultiStatementSeveralLiterals", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		sql := fmt.Sprintf("SELECT id::text FROM t.people WHERE id_no = '%s'; SELECT 'x''y' AS q, id::text FROM t.people WHERE mobile IN ('%s', '%s') ORDER BY 2; SELECT id::text FROM t.people WHERE card = '%s'",
			f.idToks[1], f.mobileToks[2], f.mobiles[3], f.cardToks[4])
		res, err := c.pc.Exec(ctx, sql).ReadAll()
		if err != nil || len(res) != 3 {
			t.Fatalf("%v %d", err, len(res))
		}
		got := fmt.Sprint(toStrings(res[0].Rows), toStrings(res[1].Rows), toStrings(res[2].Rows))
		if got != "[[2]] [[x'y 3]] [[5]]" {
			t.Errorf("multi-statement: %s", got)
		}
		noLeak(t, sql, got)
		real := c.simple(t, fmt.Sprintf("SELECT 1; SELECT id::text FROM t.people WHERE id_no = '%s'", f.ids[1]))
		fake := c.simple(t, fmt.Sprintf("SELECT 1; SELECT id::text FROM t.people WHERE id_no = '%s'", f.fakeID))
		sameAnswer(t, "second statement", real, fake)
	})
	t.Run("QuoteDoublingAndDollarTags", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, form := range []string{"'%s'", "$$%s$$", "$q$%s$q$", "$a_1$%s$a_1$", "'%s'::varchar(18)", "varchar '%s'", "N'%s'", "CAST('%s' AS text)", "('%s')"} {
			tok := c.simple(t, "SELECT 'it''s $$ a '' test' AS x, id::text FROM t.people WHERE id_no = "+fmt.Sprintf(form, f.idToks[6]))
			if fmt.Sprint(tok.rows) != "[[it's $$ a ' test 7]]" {
				t.Errorf("%s with the token: %v %v", form, tok.rows, tok.err)
			}
			real := c.simple(t, "SELECT 'it''s' AS x, id::text FROM t.people WHERE id_no = "+fmt.Sprintf(form, f.ids[6]))
			fake := c.simple(t, "SELECT 'it''s' AS x, id::text FROM t.people WHERE id_no = "+fmt.Sprintf(form, f.fakeID))
			sameAnswer(t, form, real, fake)
			noLeak(t, form, tok.text()+real.text())
		}
	})
	t.Run("CommentsWithQuotesBetweenTokens", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, tmpl := range []string{
			"SELECT /* ' */ id::text /* '' */ FROM t.people WHERE id_no /* x' */ = /* ' */ '%s' -- '",
			"SELECT id::text FROM t.people WHERE id_no = -- it's\n'%s'",
			"SELECT id::text FROM t.people WHERE id_no = /* $$ */ $$%s$$ /* ' */",
			"SELECT id::text FROM t.people WHERE id_no = '%s' /* \n '" + f.ids[0] + "' */",
		} {
			tok := c.simple(t, fmt.Sprintf(tmpl, f.idToks[8]))
			if fmt.Sprint(tok.rows) != "[[9]]" {
				t.Errorf("%q with the token: %v %v", tmpl, tok.rows, tok.err)
			}
			sameAnswer(t, tmpl, c.simple(t, fmt.Sprintf(tmpl, f.ids[8])), c.simple(t, fmt.Sprintf(tmpl, f.fakeID)))
		}
	})
	t.Run("MultibyteBeforeLiteral", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		tmpl := "SELECT '上海市浦东新区😀' AS \"城市\", id::text FROM t.people WHERE /* 注释 */ id_no = '%s' AND '王伟' <> '李'"
		tok := c.simple(t, fmt.Sprintf(tmpl, f.idToks[10]))
		if len(tok.rows) != 1 || tok.rows[0][1] != "11" {
			t.Errorf("multibyte: %v %v", tok.rows, tok.err)
		}
		sameAnswer(t, "multibyte", c.simple(t, fmt.Sprintf(tmpl, f.ids[10])), c.simple(t, fmt.Sprintf(tmpl, f.fakeID)))
	})
	t.Run("GBKSession", func(t *testing.T) {
		g := rtDial(t, addr, db, map[string]string{"client_encoding": "GBK"})
		enc := simplifiedchinese.GBK.NewEncoder()
		run := func(v string) rtOut {
			sql, err := enc.String(fmt.Sprintf("SELECT '上海市浦东新区' AS x, id::text FROM t.people WHERE /* 中文 */ id_no = '%s' OR mobile = $$%s$$", v, "not-a-mobile"))
			if err != nil {
				t.Fatal(err)
			}
			return g.simple(t, sql)
		}
		tok := run(f.idToks[21])
		if len(tok.rows) != 1 || tok.rows[0][1] != "22" {
			t.Errorf("GBK: %v %v", tok.rows, tok.err)
		}
		sameAnswer(t, "GBK", run(f.ids[21]), run(f.fakeID))
		p := g.params(t, "SELECT id::text FROM t.people WHERE id_no = $1", [][]byte{[]byte(f.idToks[22])}, nil, nil)
		if fmt.Sprint(p.rows) != "[[23]]" {
			t.Errorf("GBK param: %v %v", p.rows, p.err)
		}
		noLeak(t, "GBK", tok.text()+p.text())
	})
	t.Run("RefusedShapes", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, sql := range []string{
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no IN ('%s', id::text)", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE '%s' IN (id_no, mobile)", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE (id_no, id) = ('%s', 1)", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE (id_no, id) IN (('%s', 1))", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE (id_no, id) IN (SELECT '%s', 1)", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE ROW(id_no) = ROW('%s')", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = ANY(ARRAY['%s'])", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = ANY('{%s}')", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE CASE id_no WHEN '%s' THEN true END", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE NULLIF(id_no, '%s') IS NULL", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = E'%s'", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = U&'%s'", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = '%s' || ''", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = %s", f.ids[0][:17]),
			fmt.Sprintf("SELECT v.x FROM (VALUES ('%s')) v(x) JOIN t.people p ON p.id_no = v.x", f.idToks[0]),
			fmt.Sprintf("SELECT s.v FROM (SELECT '%s'::text AS v UNION ALL SELECT 'x') s JOIN t.people p ON p.id_no = s.v", f.idToks[0]),
			fmt.Sprintf("SELECT s.v FROM (SELECT '%s'::text AS v) s, t.people p WHERE p.id_no = s.v AND p.mobile = s.v", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = '%s' AND name = '%s'", f.idToks[0], "王伟"),
			fmt.Sprintf("EXPLAIN SELECT id FROM t.people WHERE id_no = '%s'", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no BETWEEN '%s' AND '%s'", f.idToks[0], f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no IS DISTINCT FROM '%s' ORDER BY id_no", f.idToks[0]),
			fmt.Sprintf("SELECT id FROM t.people WHERE id_no = '%s' COLLATE \"C\" AND id_no < '3'", f.idToks[0]),
			fmt.Sprintf("PREPARE rt_p(text) AS SELECT id FROM t.people WHERE id_no = $1; EXECUTE rt_p('%s')", f.idToks[0]),
			"SET standard_conforming_strings = off",
			"SELECT set_config('standard_conforming_strings', 'off', false)",
		} {
			o := c.simple(t, sql)
			refused(t, sql, o)
			noLeak(t, sql, o.text())
		}
		for _, q := range []struct {
			sql  string
			args [][]byte
		}{
			{"SELECT $1::text AS v, id FROM t.people WHERE id_no = $1", [][]byte{[]byte(f.idToks[0])}},
			{"SELECT id FROM t.people WHERE id_no = $1 AND mobile = $1", [][]byte{[]byte(f.idToks[0])}},
			{"SELECT id FROM t.people WHERE id_no = $1 AND id::text = $1", [][]byte{[]byte(f.idToks[0])}},
			{"SELECT id FROM t.people WHERE id_no = $1 OR $1 LIKE '3%'", [][]byte{[]byte(f.idToks[0])}},
			{"SELECT id FROM t.people WHERE id_no IN ($1, $2) AND $2 <> ''", [][]byte{[]byte(f.idToks[0]), []byte(f.idToks[1])}},
			{"SELECT id FROM t.people WHERE id_no = (SELECT $1::text) AND length($1) = 18", [][]byte{[]byte(f.idToks[0])}},
		} {
			o := c.params(t, q.sql, q.args, nil, nil)
			refused(t, q.sql, o)
			noLeak(t, q.sql, o.text())
		}
	})
	t.Run("DistinctFromCaseUnionSubLink", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, tmpl := range []string{
			"SELECT id::text FROM t.people WHERE id_no IS NOT DISTINCT FROM '%s'",
			"SELECT id::text FROM t.people WHERE NOT (id_no IS DISTINCT FROM '%s')",
			"SELECT id::text FROM t.people WHERE CASE WHEN id_no = '%s' THEN true ELSE false END",
			"SELECT id::text FROM t.people WHERE id_no = ANY(SELECT '%s')",
			"SELECT id::text FROM t.people WHERE id_no IN (SELECT '%s' UNION ALL SELECT 'zz')",
			"SELECT id::text FROM t.people WHERE id_no = (SELECT '%s'::text)",
			"SELECT id::text FROM t.people p WHERE EXISTS (SELECT 1 FROM t.payroll r WHERE r.id_no = '%s' AND r.id_no = p.id_no)",
		} {
			sameAnswer(t, tmpl, c.simple(t, fmt.Sprintf(tmpl, f.ids[25])), c.simple(t, fmt.Sprintf(tmpl, f.fakeID)))
			tok := c.simple(t, fmt.Sprintf(tmpl, f.idToks[25]))
			noLeak(t, tmpl, tok.text())
			if tok.err == nil && len(tok.rows) == 0 && !strings.Contains(tmpl, "payroll") {
				t.Errorf("%s: the token found nothing", tmpl)
			}
		}
		// a literal output in one branch is another node than the one compared
		sql := fmt.Sprintf("SELECT '%s'::text UNION ALL SELECT id::text FROM t.people WHERE id_no = '%s'", f.idToks[26], f.idToks[26])
		o := c.simple(t, sql)
		noLeak(t, sql, o.text())
		sql = fmt.Sprintf("SELECT CASE WHEN id_no = '%s' THEN '%s' END AS x FROM t.people WHERE id = 27", f.idToks[26], f.idToks[26])
		o = c.simple(t, sql)
		noLeak(t, sql, o.text())
	})
	t.Run("ParamsTypesNullsAndCounts", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		q := "SELECT id::text FROM t.people WHERE id_no = $1"
		// explicit types
		for _, oid := range []uint32{25, 1043, 1042, 19, 705, 0} {
			o := c.params(t, q+"::text", [][]byte{[]byte(f.idToks[30])}, []uint32{oid}, nil)
			if fmt.Sprint(o.rows) != "[[31]]" {
				t.Errorf("oid %d: %v %v", oid, o.rows, o.err)
			}
			real := c.params(t, q+"::text", [][]byte{[]byte(f.ids[30])}, []uint32{oid}, nil)
			fake := c.params(t, q+"::text", [][]byte{[]byte(f.fakeID)}, []uint32{oid}, nil)
			sameAnswer(t, fmt.Sprintf("oid %d", oid), real, fake)
			noLeak(t, "typed params", o.text()+real.text())
		}
		// bytea and binary formats
		for _, oid := range []uint32{17, 20, 25} {
			for _, format := range []int16{0, 1} {
				real := c.params(t, q+"::text", [][]byte{[]byte(f.ids[31])}, []uint32{oid}, []int16{format})
				fake := c.params(t, q+"::text", [][]byte{[]byte(f.fakeID)}, []uint32{oid}, []int16{format})
				sameAnswer(t, fmt.Sprintf("oid %d format %d", oid, format), real, fake)
				tok := c.params(t, q+"::text", [][]byte{[]byte(f.idToks[31])}, []uint32{oid}, []int16{format})
				noLeak(t, fmt.Sprintf("oid %d format %d", oid, format), tok.text()+real.text())
			}
		}
		// NULL, too few, too many
		if o := c.params(t, q, [][]byte{nil}, nil, nil); o.err != nil || len(o.rows) != 0 {
			t.Errorf("NULL: %v %v", o.rows, o.err)
		}
		o := c.params(t, "SELECT id::text FROM t.people WHERE id_no = $1 OR mobile = $2", [][]byte{[]byte(f.idToks[0])}, nil, nil)
		noLeak(t, "too few", o.text())
		if o.err == nil {
			t.Errorf("too few parameters accepted: %v", o.rows)
		}
		o = c.params(t, q, [][]byte{[]byte(f.idToks[0]), []byte(f.idToks[1])}, nil, nil)
		noLeak(t, "too many", o.text())
	})
	t.Run("CopyQueryToStdout", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		run := func(sql string) (string, error) {
			var buf bytes.Buffer
			_, err := c.pc.CopyTo(ctx, &buf, sql)
			return buf.String(), err
		}
		out, err := run(fmt.Sprintf("COPY (SELECT id, id_no FROM t.people WHERE id_no = '%s') TO STDOUT", f.idToks[40]))
		if err != nil || !strings.HasPrefix(out, "41\t") {
			t.Errorf("COPY with token: %q %v", out, err)
		}
		noLeak(t, "COPY", out)
		out2, err2 := run(fmt.Sprintf("COPY (SELECT id FROM t.people WHERE id_no = '%s') TO STDOUT", f.ids[40]))
		out3, err3 := run(fmt.Sprintf("COPY (SELECT id FROM t.people WHERE id_no = '%s') TO STDOUT", f.fakeID))
		if out2 != out3 || (err2 == nil) != (err3 == nil) {
			t.Errorf("CONFIRMATION ORACLE (COPY): real %q %v, fake %q %v", out2, err2, out3, err3)
		}
		out4, err4 := run(fmt.Sprintf("COPY (SELECT s.v FROM (SELECT '%s'::text AS v) s LEFT JOIN t.people p ON p.id_no = s.v) TO STDOUT", f.idToks[41]))
		_, et := errText(err4)
		noLeak(t, "COPY of a subquery column", out4+et)
	})
	t.Run("CursorsAndSQLPrepare", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		cursor := func(lit string) rtOut {
			c.simple(t, "BEGIN")
			defer c.simple(t, "COMMIT")
			if o := c.simple(t, "DECLARE rt_c CURSOR FOR SELECT id::text FROM t.people WHERE id_no = '"+lit+"'"); o.err != nil {
				return o
			}
			return c.simple(t, "FETCH ALL FROM rt_c")
		}
		tok := cursor(f.idToks[50])
		if tok.err != nil || fmt.Sprint(tok.rows) != "[[51]]" {
			t.Errorf("cursor with token: %v %v", tok.all, tok.err)
		}
		sameAnswer(t, "cursor", cursor(f.ids[50]), cursor(f.fakeID))
		prep := func(n int, lit string) rtOut {
			if o := c.simple(t, fmt.Sprintf("PREPARE rt_%d AS SELECT id::text FROM t.people WHERE id_no = '%s'", n, lit)); o.err != nil {
				return o
			}
			return c.simple(t, fmt.Sprintf("EXECUTE rt_%d", n))
		}
		p := prep(1, f.idToks[51])
		if p.err != nil || fmt.Sprint(p.rows) != "[[52]]" {
			t.Errorf("SQL PREPARE with token: %v %v", p.all, p.err)
		}
		sameAnswer(t, "SQL PREPARE", prep(2, f.ids[51]), prep(3, f.fakeID))
	})
	t.Run("CursorOverSubqueryColumn", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		// A cursor whose query outputs a detokenized subquery column.
		c.simple(t, "BEGIN")
		d := c.simple(t, fmt.Sprintf("DECLARE rt_l CURSOR FOR SELECT s.v FROM (SELECT '%s'::text AS v) s LEFT JOIN t.people p ON p.id_no = s.v", f.idToks[52]))
		leak := c.simple(t, "FETCH ALL FROM rt_l")
		c.simple(t, "COMMIT")
		noLeak(t, "cursor over a subquery column", d.text()+leak.text())
	})
	t.Run("ErrorsAndNoticesCarryNoValue", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		for _, tmpl := range []string{
			"SELECT id FROM t.people WHERE id_no = '%s'::int4::text",
			"SELECT id FROM t.people WHERE id_no = '%s'::date::text",
			"SELECT id FROM t.people WHERE id_no = '%s'::regclass::text",
			"SELECT id FROM t.people WHERE id_no = '%s'::jsonb::text",
			"SELECT id FROM t.people WHERE id_no = '%s'::numeric(3,0)::text",
			"SELECT id FROM t.people WHERE mobile = '%s'::int4::text",
			"SELECT id FROM t.people WHERE id_no = '%s'::xml::text",
			"SELECT id FROM t.people WHERE id_no = '%s'::inet::text",
		} {
			tok := f.idToks[60]
			if strings.Contains(tmpl, "mobile") {
				tok = f.mobileToks[60]
			}
			o := c.simple(t, fmt.Sprintf(tmpl, tok))
			noLeak(t, tmpl, o.text())
			p := c.params(t, strings.Replace(tmpl, "'%s'", "$1", 1), [][]byte{[]byte(tok)}, nil, nil)
			noLeak(t, tmpl+" (param)", p.text())
		}
	})
	t.Run("TwoClassesOneParam", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		b := r.batch(t,
			&pgproto3.Parse{Name: "rt_two", Query: "SELECT id::text FROM t.people WHERE id_no = $1 OR mobile = $1"},
			&pgproto3.Bind{PreparedStatement: "rt_two", Parameters: [][]byte{[]byte(f.idToks[70])}},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		noLeak(t, "one parameter for two classes", strings.Join(b.all, "\n"))
		if len(b.errors) == 0 || !strings.HasPrefix(b.errors[0], "42501") {
			t.Errorf("want 42501: %v", b.all)
		}
	})
}
