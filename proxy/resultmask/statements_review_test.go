package resultmask_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// reviewedSetup: the analysis-cases database and policy behind pgmantle.
func reviewedSetup(t *testing.T) (addr, db string) {
	t.Helper()
	addr, db, _, _ = analysisProxy(t)
	return addr, db
}

// reviewedExchange sends msgs, reads until n ReadyForQuery, and returns a
// transcript of what came back (type and, for errors, SQLSTATE; DataRow
// values).
func reviewedExchange(t *testing.T, fe *pgproto3.Frontend, n int, msgs ...pgproto3.FrontendMessage) (transcript []string, values []string) {
	t.Helper()
	for _, m := range msgs {
		fe.Send(m)
	}
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for n > 0 {
		m, err := fe.Receive()
		if err != nil {
			transcript = append(transcript, "EOF:"+err.Error())
			return
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			for _, v := range m.Values {
				values = append(values, string(v))
			}
			transcript = append(transcript, "D")
		case *pgproto3.ErrorResponse:
			transcript = append(transcript, "E:"+m.Code+":"+m.Severity+":"+m.Message)
			if m.Severity == "FATAL" {
				return
			}
		case *pgproto3.ReadyForQuery:
			transcript = append(transcript, "Z:"+string(m.TxStatus))
			n--
		default:
			transcript = append(transcript, fmt.Sprintf("%T", m)[len("*pgproto3."):])
		}
	}
	return
}

func reviewedSecret(values []string) string {
	var all []byte
	for _, v := range values {
		all = append(all, v...)
		all = append(all, '|')
	}
	v, class := findSecret(all, nil)
	if v == "" {
		return ""
	}
	return class + " " + v
}

const reviewedUnion = "SELECT name FROM bk.contacts UNION ALL SELECT employee FROM bk.payroll"

// TestReviewedStalePreparedAnalysis: the analysis' record of SQL-level
// prepared statements and cursors must never stand for something other
// than what PostgreSQL holds under that name.
func TestReviewedStalePreparedAnalysis(t *testing.T) {
	addr, db := reviewedSetup(t)
	for name, steps := range map[string][][]pgproto3.FrontendMessage{
		// Baseline: the UNION's column has no origin; the plan masks it.
		"baseline": {
			{&pgproto3.Query{String: "PREPARE s1 AS " + reviewedUnion}},
			{&pgproto3.Query{String: "EXECUTE s1"}},
		},
		// PREPARE of an existing name fails in PostgreSQL (42P05): the
		// analysis keeps the first one's.
		"failed PREPARE": {
			{&pgproto3.Query{String: "PREPARE s1 AS " + reviewedUnion}},
			{&pgproto3.Query{String: "PREPARE s1 AS SELECT 'x'::text"}},
			{&pgproto3.Query{String: "EXECUTE s1"}},
		},
		// A Query pgmantle refuses never runs: none of its statements
		// counts.
		"refused Query": {
			{&pgproto3.Query{String: "PREPARE s1 AS " + reviewedUnion}},
			{&pgproto3.Query{String: "DEALLOCATE s1; PREPARE s1 AS SELECT 'x'::text; SELECT id_no::int FROM bk.contacts"}},
			{&pgproto3.Query{String: "EXECUTE s1"}},
		},
		// A statement after a failing one in the same Query never runs.
		"aborted Query": {
			{&pgproto3.Query{String: "PREPARE s1 AS " + reviewedUnion}},
			{&pgproto3.Query{String: "SELECT 1/0; DEALLOCATE s1; PREPARE s1 AS SELECT 'x'::text"}},
			{&pgproto3.Query{String: "EXECUTE s1"}},
		},
		// The protocol's Close and Parse share the namespace with SQL
		// PREPARE: EXECUTE runs what the Parse prepared.
		"protocol redefinition": {
			{&pgproto3.Query{String: "PREPARE s1 AS SELECT 'x'::text"}},
			{&pgproto3.Close{ObjectType: 'S', Name: "s1"}, &pgproto3.Parse{Name: "s1", Query: reviewedUnion}, &pgproto3.Sync{}},
			{&pgproto3.Query{String: "EXECUTE s1"}},
		},
		// Cursors: a failed DECLARE rolled back to a savepoint.
		"failed DECLARE": {
			{&pgproto3.Query{String: "BEGIN"}},
			{&pgproto3.Query{String: "DECLARE c CURSOR FOR " + reviewedUnion}},
			{&pgproto3.Query{String: "SAVEPOINT a"}},
			{&pgproto3.Query{String: "DECLARE c CURSOR FOR SELECT 'x'::text"}},
			{&pgproto3.Query{String: "ROLLBACK TO a"}},
			{&pgproto3.Query{String: "FETCH ALL FROM c"}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fe := rawAs(t, addr, db, "analyst")
			var values []string
			for _, msgs := range steps {
				tr, v := reviewedExchange(t, fe, 1, msgs...)
				t.Logf("%T... -> %v", msgs[0], tr)
				values = append(values, v...)
			}
			t.Logf("values: %q", values)
			if s := reviewedSecret(values); s != "" {
				t.Errorf("the client received a %s value", s)
			}
		})
	}
}

// TestReviewedForgottenRedefinition: executing a protocol statement whose
// text pgmantle has forgotten (it may be a DEALLOCATE or PREPARE) makes it
// forget the other statements' plans too, so none is applied to a
// statement redefined behind its back.
func TestReviewedForgottenRedefinition(t *testing.T) {
	addr, db := reviewedSetup(t)
	for _, blank := range []bool{false, true} {
		t.Run(fmt.Sprint("blanked=", blank), func(t *testing.T) { reviewedForgotten(t, addr, db, blank) })
	}
}

func reviewedForgotten(t *testing.T, addr, db string, blank bool) {
	fe := rawAs(t, addr, db, "analyst")
	var values []string
	blanker := "SELECT 1"
	if blank {
		blanker = "SELECT 1 -- execute"
	}
	for _, msgs := range [][]pgproto3.FrontendMessage{
		{&pgproto3.Parse{Name: "redef1", Query: "DEALLOCATE victim"},
			&pgproto3.Parse{Name: "redef2", Query: "PREPARE victim AS " + reviewedUnion}, &pgproto3.Sync{}},
		// Any text with a redefining word blanks every recorded text.
		{&pgproto3.Query{String: blanker}},
		{&pgproto3.Parse{Name: "victim", Query: "SELECT 'x'::text"}, &pgproto3.Sync{}},
		{&pgproto3.Bind{PreparedStatement: "redef1"}, &pgproto3.Execute{},
			&pgproto3.Bind{PreparedStatement: "redef2"}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		{&pgproto3.Bind{PreparedStatement: "victim"}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
	} {
		tr, v := reviewedExchange(t, fe, 1, msgs...)
		t.Logf("-> %v %q", tr, v)
		values = append(values, v...)
	}
	if s := reviewedSecret(values); s != "" {
		t.Errorf("the client received a %s value", s)
	}
}

// TestReviewedColumnCountMismatch: when the result has more columns than
// the analysis counted (the catalog snapshot predates a column added by
// the DBA), the set operation's columns of unknown origin are not taken
// for clean.
func TestReviewedColumnCountMismatch(t *testing.T) {
	addr, db := reviewedSetup(t)
	fe := rawAs(t, addr, db, "analyst")
	tr, v := reviewedExchange(t, fe, 1, &pgproto3.Query{String: "SELECT * FROM bk.contacts UNION ALL SELECT * FROM bk.contacts"})
	t.Logf("before -> %v %q", tr, v)
	c := pgtest.Cluster(t)
	conn := pgtest.Connect(t, c.DSN("postgres", "", db))
	if _, err := conn.Exec(pgtest.Context(t), "ALTER TABLE bk.contacts ADD COLUMN extra text"); err != nil {
		t.Fatal(err)
	}
	fe = rawAs(t, addr, db, "analyst")
	tr, v = reviewedExchange(t, fe, 1, &pgproto3.Query{String: "SELECT * FROM bk.contacts UNION ALL SELECT * FROM bk.contacts"})
	t.Logf("after -> %v %q", tr, v)
	if s := reviewedSecret(v); s != "" {
		t.Errorf("the client received a %s value", s)
	}
}

// TestReviewedPreparedUnderOtherSearchPath: PostgreSQL re-parses a prepared
// statement under the current search_path when it has changed since the
// Parse (or PREPARE); pgmantle refuses to run it (42501) rather than apply
// the plan analysed under the old path.
func TestReviewedPreparedUnderOtherSearchPath(t *testing.T) {
	addr, db := reviewedSetup(t)
	const q = "SELECT id_no || '' FROM contacts"
	for name, steps := range map[string][][]pgproto3.FrontendMessage{
		"protocol": {
			{&pgproto3.Query{String: "SET search_path = staging"}},
			{&pgproto3.Parse{Name: "s", Query: q}, &pgproto3.Sync{}},
			{&pgproto3.Query{String: "SET search_path = bk"}},
			{&pgproto3.Bind{PreparedStatement: "s"}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		},
		"SQL": {
			{&pgproto3.Query{String: "SET search_path = staging"}},
			{&pgproto3.Query{String: "PREPARE s AS " + q}},
			{&pgproto3.Query{String: "SET search_path = bk"}},
			{&pgproto3.Query{String: "EXECUTE s"}},
		},
		"control": {
			{&pgproto3.Query{String: "SET search_path = bk"}},
			{&pgproto3.Parse{Name: "s", Query: q}, &pgproto3.Sync{}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fe := rawAs(t, addr, db, "analyst")
			var values, tr []string
			for _, msgs := range steps {
				var v []string
				tr, v = reviewedExchange(t, fe, 1, msgs...)
				t.Logf("-> %v %q", tr, v)
				values = append(values, v...)
			}
			if s := reviewedSecret(values); s != "" {
				t.Errorf("the client received a %s value", s)
			}
			if name != "control" && !strings.HasPrefix(tr[0], "E:42501:ERROR:") {
				t.Errorf("running the stale statement: %v, want a 42501 refusal", tr)
			}
		})
	}
}
