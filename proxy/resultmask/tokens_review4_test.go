package resultmask_test

// Fourth red-team round on search by token. Every subtest FAILS when its
// attack succeeds: a real value reaches the analyst, or a guessed real
// value gets another answer than a fake one.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/internal/vaulttest"
)

func TestTokensReview4(t *testing.T) {
	v, km := vaultKeys(t)
	addr, db, ids := tokenProxy(t, km, "")
	direct := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	analyst := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	f := &rtFixture{addr: addr, db: db, ids: ids}
	f.readTokens(t, analyst, direct)

	noLeak := f.noLeak
	rawOut := func(b rtRawOut) rtOut {
		o := rtOut{rows: b.rows, all: b.all}
		if len(b.errors) > 0 {
			o.code = b.errors[0][:5]
		}
		return o
	}
	sameAnswer := rtSameAnswer

	// A Parse whose text is empty (";") makes pgmantle record nothing
	// (its plan has no statement), while PostgreSQL replaces the unnamed
	// statement. A Bind of "" must not be detokenized for the old one.
	t.Run("EmptyParseReplacesUnnamed", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		if b := r.batch(t, &pgproto3.Parse{Query: "SELECT id::text FROM t.people WHERE id_no = $1"}, &pgproto3.Sync{}); len(b.errors) > 0 {
			t.Fatalf("parse: %v", b.all)
		}
		b0 := r.batch(t, &pgproto3.Parse{Query: ";"}, &pgproto3.Sync{})
		b := r.batch(t,
			&pgproto3.Bind{Parameters: [][]byte{[]byte(f.idToks[3])}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		t.Logf("empty parse %v; bind %v", b0.all, b.all)
		noLeak(t, "Bind of the unnamed statement after an empty Parse", strings.Join(b.all, "\n"))
	})

	// A simple Query inside an unsynced extended batch (PostgreSQL answers
	// it with its own ReadyForQuery) between Parse and Bind; and a Query
	// skipped after an error in the batch.
	t.Run("QueryInsideExtendedBatch", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		q := "SELECT id::text FROM t.people WHERE id_no = $1"
		b := r.batch(t,
			&pgproto3.Parse{Name: "rt4_q", Query: q},
			&pgproto3.Query{String: "SELECT 1"},
			&pgproto3.Bind{PreparedStatement: "rt4_q", Parameters: [][]byte{[]byte(f.idToks[8])}},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		noLeak(t, "Query inside an extended batch", strings.Join(b.all, "\n"))
		if fmt.Sprint(b.rows) != "[[1] [9]]" {
			t.Logf("rows %v errors %v", b.rows, b.errors)
		}
		// PostgreSQL ignores the Query (skipping until Sync): one
		// ReadyForQuery only; the trailing Query is read as the second.
		for _, m := range []pgproto3.FrontendMessage{
			&pgproto3.Parse{Name: "rt4_bad", Query: "SELECT id FROM t.people WHERE id_no LIKE '3%'"},
			&pgproto3.Parse{Name: "rt4_q2", Query: "SELECT $1::text AS v, $2::int AS k"},
			&pgproto3.Query{String: "SELECT 1"},
			&pgproto3.Parse{Name: "rt4_q2", Query: q + " AND id = $2::int"},
		} {
			r.fe.Send(m)
		}
		b = r.batch(t, &pgproto3.Sync{})
		t.Logf("skipped batch: %v", b.all)
		b = r.batch(t,
			&pgproto3.Bind{PreparedStatement: "rt4_q2", Parameters: [][]byte{[]byte(f.idToks[9]), []byte("10")}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		noLeak(t, "Bind after a skipped Query", strings.Join(b.all, "\n"))
	})

	// A protocol DECLARE with a bind parameter compared with a tokenized
	// column, WITH HOLD across COMMIT, MOVE then FETCH.
	t.Run("DeclareWithBindParam", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		run := func(name, v string) rtOut {
			r.batch(t, &pgproto3.Query{String: "BEGIN"})
			b := r.batch(t,
				&pgproto3.Parse{Query: "DECLARE " + name + " CURSOR WITH HOLD FOR SELECT id::text, id_no FROM t.people WHERE id_no = $1 OR id_no = $2"},
				&pgproto3.Bind{Parameters: [][]byte{[]byte(v), []byte(f.idToks[20])}},
				&pgproto3.Execute{},
				&pgproto3.Sync{})
			r.batch(t, &pgproto3.Query{String: "COMMIT"})
			m := r.batch(t, &pgproto3.Query{String: "MOVE ABSOLUTE 0 IN " + name})
			fe := r.batch(t, &pgproto3.Query{String: "FETCH ALL FROM " + name})
			r.batch(t, &pgproto3.Query{String: "CLOSE " + name})
			o := rawOut(fe)
			o.all = append(append(b.all, m.all...), fe.all...)
			if len(b.errors) > 0 {
				o.code = b.errors[0][:5]
			}
			return o
		}
		tok := run("rt4_c1", f.idToks[21])
		t.Logf("token: %v %q", tok.rows, tok.code)
		noLeak(t, "WITH HOLD cursor", tok.text())
		real, fake := run("rt4_c2", f.ids[21]), run("rt4_c3", f.fakeID)
		sameAnswer(t, "protocol DECLARE with $1", real, fake)
		noLeak(t, "WITH HOLD cursor, real", real.text())
	})

	// Search by token in a failed transaction, then ROLLBACK and a Bind of
	// the name whose Parse failed; SAVEPOINT / ROLLBACK TO around a SQL
	// PREPARE and a cursor.
	t.Run("FailedTransactionAndSavepoints", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		r.batch(t, &pgproto3.Query{String: "BEGIN"})
		r.batch(t, &pgproto3.Query{String: "SELECT 1/0"})
		b1 := r.batch(t,
			&pgproto3.Parse{Name: "rt4_f", Query: rt3Search},
			&pgproto3.Bind{PreparedStatement: "rt4_f", Parameters: [][]byte{[]byte(f.idToks[30]), []byte("31")}},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		r.batch(t, &pgproto3.Query{String: "ROLLBACK"})
		b2 := r.batch(t, &pgproto3.Parse{Name: "rt4_f", Query: rt3Oracle}, &pgproto3.Sync{})
		learned, all := rt3LeakChars(t, r, "rt4_f", f.idToks[30])
		t.Logf("failed tx %v; parse %v; learned %q (token %s, real %s)", b1.all, b2.all, learned, f.idToks[30], f.ids[30])
		noLeak(t, "failed transaction", strings.Join(append(b1.all, all...), "\n"))
		if learned == f.ids[30] {
			t.Errorf("LEAK: the oracle statement ran on the detokenized parameter: %q", learned)
		}
		c := rtDial(t, addr, db, nil)
		c.simple(t, "BEGIN")
		c.simple(t, "SAVEPOINT s1")
		c.simple(t, "DECLARE rt4_sc CURSOR FOR SELECT 'x'::text AS v")
		c.simple(t, "PREPARE rt4_sp AS SELECT 'x'::text AS v")
		c.simple(t, "ROLLBACK TO s1")
		d := c.simple(t, "DECLARE rt4_sc CURSOR FOR "+rt3Scalar)
		fe := c.simple(t, "FETCH ALL FROM rt4_sc")
		c.simple(t, "COMMIT")
		t.Logf("declare again %v; fetch %v", d.all, fe.all)
		noLeak(t, "cursor redeclared after ROLLBACK TO", fe.text())
	})

	// The first variant of the attack above, with one parameter: the
	// Parse that fails in the aborted transaction compares $1 with id_no;
	// after ROLLBACK a Parse of the same name returns ascii of $1's first
	// character.
	t.Run("FailedTransactionOneParam", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		r.batch(t, &pgproto3.Query{String: "BEGIN"})
		r.batch(t, &pgproto3.Query{String: "SELECT 1/0"})
		b1 := r.batch(t,
			&pgproto3.Parse{Name: "rt4_g", Query: "SELECT id::text FROM t.people WHERE id_no = $1"},
			&pgproto3.Bind{PreparedStatement: "rt4_g", Parameters: [][]byte{[]byte(f.idToks[30])}},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		r.batch(t, &pgproto3.Query{String: "ROLLBACK"})
		b2 := r.batch(t, &pgproto3.Parse{Name: "rt4_g", Query: "SELECT id FROM t.people WHERE id = ascii(substr($1::text, 1, 1))"}, &pgproto3.Sync{})
		b3 := r.batch(t,
			&pgproto3.Bind{PreparedStatement: "rt4_g", Parameters: [][]byte{[]byte(f.idToks[30])}},
			&pgproto3.Execute{},
			&pgproto3.Sync{})
		t.Logf("failed tx %v; parse %v; bind %v; token %s real %s", b1.all, b2.all, b3.all, f.idToks[30], f.ids[30])
		if len(b3.rows) == 1 && f.idToks[30][0] != f.ids[30][0] && b3.rows[0][0] == fmt.Sprint(int(f.ids[30][0])) {
			t.Errorf("LEAK: the oracle statement ran on the detokenized parameter: %v (token starts %q, real %q)", b3.rows, f.idToks[30][0], f.ids[30][0])
		}
	})

	// An oversized parameter and IN list of tokens near the message-size
	// limits; a token padded with separators.
	t.Run("HugeParamsAndInLists", func(t *testing.T) {
		c := rtDial(t, addr, db, nil)
		var in []string
		for i := 0; i < 2000; i++ {
			in = append(in, "'"+f.idToks[i%100]+"'")
		}
		o := c.simple(t, "SELECT count(*)::text FROM t.people WHERE id_no IN ("+strings.Join(in, ",")+")")
		t.Logf("2000-literal IN: %v %q", o.rows, o.code)
		noLeak(t, "huge IN list", o.text())
		for _, pad := range []string{" ", "-", "\t", "\u00a0", "\u3000"} {
			real := c.params(t, "SELECT id::text FROM t.people WHERE id_no = $1", [][]byte{[]byte(f.ids[40] + pad)}, nil, nil)
			fake := c.params(t, "SELECT id::text FROM t.people WHERE id_no = $1", [][]byte{[]byte(f.fakeID + pad)}, nil, nil)
			sameAnswer(t, fmt.Sprintf("padded %q", pad), real, fake)
			real = c.params(t, "SELECT id::text FROM t.people WHERE id_no = $1", [][]byte{[]byte(pad + f.ids[40])}, nil, nil)
			fake = c.params(t, "SELECT id::text FROM t.people WHERE id_no = $1", [][]byte{[]byte(pad + f.fakeID)}, nil, nil)
			sameAnswer(t, fmt.Sprintf("prefixed %q", pad), real, fake)
		}
		big := strings.Repeat(f.idToks[41], 20000)
		p := c.params(t, "SELECT id::text FROM t.people WHERE id_no = $1", [][]byte{[]byte(big)}, nil, nil)
		noLeak(t, "oversized parameter", p.text())
	})

	// Key rotation between Parse and Bind, and between a DECLARE with a
	// token literal and its FETCH (last: it changes the keys).
	t.Run("RotationMidSession", func(t *testing.T) {
		r := rtDialRaw(t, addr, db)
		if b := r.batch(t, &pgproto3.Parse{Name: "rt4_rot", Query: "SELECT id::text, id_no FROM t.people WHERE id_no = $1"}, &pgproto3.Sync{}); len(b.errors) > 0 {
			t.Fatalf("parse: %v", b.all)
		}
		c := rtDial(t, addr, db, nil)
		c.simple(t, "BEGIN")
		dc := c.simple(t, fmt.Sprintf("DECLARE rt4_rc CURSOR FOR SELECT id::text, id_no, (SELECT id_no FROM t.people WHERE id = 3) AS s FROM t.people WHERE id_no = '%s'", f.idToks[50]))
		v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
		if err := km.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		fe := c.simple(t, "FETCH ALL FROM rt4_rc")
		c.simple(t, "COMMIT")
		t.Logf("declare %v; fetch after rotation %v", dc.all, fe.all)
		noLeak(t, "cursor fetched after rotation", dc.text()+fe.text())
		bind := func(v string) rtOut {
			b := r.batch(t,
				&pgproto3.Bind{PreparedStatement: "rt4_rot", Parameters: [][]byte{[]byte(v)}},
				&pgproto3.Describe{ObjectType: 'P'},
				&pgproto3.Execute{},
				&pgproto3.Sync{})
			return rawOut(b)
		}
		old := bind(f.idToks[51])
		t.Logf("old token after rotation: %v %q", old.rows, old.code)
		noLeak(t, "old token after rotation", old.text())
		sameAnswer(t, "Bind after rotation", bind(f.ids[52]), bind(f.fakeID))
		newToks := oneColumn(t, connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol), "SELECT id_no FROM t.people ORDER BY id")
		nt := bind(newToks[53])
		t.Logf("new token: %v %q", nt.rows, nt.code)
		noLeak(t, "new token after rotation", nt.text())
	})
}
