package resultmask_test

// Regression tests from a review that attacked the analysis: each test
// replays an attack that once succeeded (its comment describes the hole
// as it was found); it must now be refused, or its values masked.
import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/analysiscases"
)

// reviewedRound3StandInPrefix is the part of proxy.standInName PostgreSQL's
// prepared-statement hash table compares (NAMEDATALEN-1 bytes).
const reviewedRound3StandInPrefix = "pgmantle refused this Bind: this statement name is longer than any SQL identifier can be"

func reviewedRound3Run(t *testing.T, fe *pgproto3.Frontend, steps [][]pgproto3.FrontendMessage) []string {
	t.Helper()
	var values []string
	for _, msgs := range steps {
		tr, v := reviewedExchange(t, fe, 1, msgs...)
		t.Logf("%T... -> %v %q", msgs[0], tr, v)
		values = append(values, v...)
	}
	return values
}

// TestReviewedRound3BindStandInFound: the Bind stand-in names a statement
// PostgreSQL looks up by its first 63 bytes only; a client that prepared
// a statement under that prefix makes the stand-in succeed, and pgmantle
// then applies the plan of the statement the client named.
func TestReviewedRound3BindStandInFound(t *testing.T) {
	addr, db := reviewedSetup(t)
	prefix := reviewedRound3StandInPrefix[:63]
	for name, steps := range map[string][][]pgproto3.FrontendMessage{
		"unnamed destroyed by Query": {
			{&pgproto3.Parse{Name: prefix, Query: reviewedUnion},
				&pgproto3.Parse{Name: "", Query: "SELECT 'x'::text"}, &pgproto3.Sync{}},
			{&pgproto3.Query{String: "SELECT 1"}},
			{&pgproto3.Bind{PreparedStatement: ""}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		},
		"stale after search_path change": {
			{&pgproto3.Parse{Name: prefix, Query: reviewedUnion},
				&pgproto3.Parse{Name: "x", Query: "SELECT 'x'::text"}, &pgproto3.Sync{}},
			{&pgproto3.Query{String: "SET search_path = staging"}},
			{&pgproto3.Bind{PreparedStatement: "x"}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fe := rawAs(t, addr, db, "analyst")
			values := reviewedRound3Run(t, fe, steps)
			if s := reviewedSecret(values); s != "" {
				t.Errorf("the client received a %s value", s)
			}
		})
	}
}

// TestReviewedRound3PreparedSetReexecuted: a SET search_path prepared with the
// protocol changes the path each time it is executed, not when parsed.
func TestReviewedRound3PreparedSetReexecuted(t *testing.T) {
	addr, db := reviewedSetup(t)
	for name, setter := range map[string]string{
		"SET":       "SET search_path = bk",
		"SET LOCAL": "SET LOCAL search_path = bk",
	} {
		t.Run(name, func(t *testing.T) {
			fe := rawAs(t, addr, db, "analyst")
			var exec [][]pgproto3.FrontendMessage
			if strings.Contains(setter, "LOCAL") {
				exec = [][]pgproto3.FrontendMessage{
					{&pgproto3.Query{String: "BEGIN"}},
					{&pgproto3.Bind{PreparedStatement: "sp"}, &pgproto3.Execute{}, &pgproto3.Sync{}},
				}
			} else {
				exec = [][]pgproto3.FrontendMessage{
					{&pgproto3.Bind{PreparedStatement: "sp"}, &pgproto3.Execute{}, &pgproto3.Sync{}},
				}
			}
			steps := [][]pgproto3.FrontendMessage{
				{&pgproto3.Parse{Name: "sp", Query: setter}, &pgproto3.Sync{}},
				{&pgproto3.Query{String: "SET search_path = staging"}},
			}
			steps = append(steps, exec...)
			steps = append(steps,
				[]pgproto3.FrontendMessage{&pgproto3.Query{String: "SHOW search_path"}},
				[]pgproto3.FrontendMessage{&pgproto3.Query{String: "SELECT id_no || '' FROM contacts"}})
			values := reviewedRound3Run(t, fe, steps)
			if s := reviewedSecret(values); s != "" {
				t.Errorf("the client received a %s value", s)
			}
		})
	}
}

// TestReviewedRound3CachedEpoch: the analysis cache shares Statement values (and
// their epoch) between sessions; a statement another session analysed
// later carries an epoch this session reaches only after a search_path
// change, so CheckBind takes it for current.
func TestReviewedRound3CachedEpoch(t *testing.T) {
	addr, db := reviewedSetup(t)
	const q = "SELECT id_no || '' FROM contacts"
	a := rawAs(t, addr, db, "analyst")
	reviewedRound3Run(t, a, [][]pgproto3.FrontendMessage{
		{&pgproto3.Query{String: "SET search_path = staging"}},
		{&pgproto3.Query{String: "SET search_path = staging"}},
		{&pgproto3.Query{String: "SET search_path = staging"}},
		{&pgproto3.Parse{Name: "warm", Query: q}, &pgproto3.Sync{}},
	})
	b := rawAs(t, addr, db, "analyst")
	values := reviewedRound3Run(t, b, [][]pgproto3.FrontendMessage{
		{&pgproto3.Query{String: "SET search_path = staging"}},
		{&pgproto3.Parse{Name: "s", Query: q}, &pgproto3.Sync{}},
		{&pgproto3.Query{String: "SET search_path = bk"}},
		{&pgproto3.Query{String: "SET search_path = bk"}},
		{&pgproto3.Bind{PreparedStatement: "s"}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
	})
	if s := reviewedSecret(values); s != "" {
		t.Errorf("the client received a %s value", s)
	}
}

// TestReviewedRound3StaleCursor: the analysis keeps a DECLAREd cursor's record
// after PostgreSQL dropped the cursor (protocol Close of the portal, end
// of transaction); a protocol portal of the same name is then FETCHed
// with the old cursor's plan.
func TestReviewedRound3StaleCursor(t *testing.T) {
	addr, db := reviewedSetup(t)
	for name, steps := range map[string][][]pgproto3.FrontendMessage{
		"protocol Close": {
			{&pgproto3.Query{String: "BEGIN"}},
			{&pgproto3.Query{String: "DECLARE c CURSOR FOR SELECT 'x'::text"}},
			{&pgproto3.Close{ObjectType: 'P', Name: "c"}, &pgproto3.Parse{Name: "y", Query: reviewedUnion},
				&pgproto3.Bind{DestinationPortal: "c", PreparedStatement: "y"}, &pgproto3.Sync{}},
			{&pgproto3.Query{String: "FETCH ALL FROM c"}},
		},
		"COMMIT": {
			{&pgproto3.Query{String: "BEGIN"}},
			{&pgproto3.Query{String: "DECLARE c CURSOR FOR SELECT 'x'::text"}},
			{&pgproto3.Query{String: "COMMIT"}},
			{&pgproto3.Query{String: "BEGIN"}},
			{&pgproto3.Parse{Name: "y", Query: reviewedUnion},
				&pgproto3.Bind{DestinationPortal: "c", PreparedStatement: "y"}, &pgproto3.Sync{}},
			{&pgproto3.Query{String: "FETCH ALL FROM c"}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fe := rawAs(t, addr, db, "analyst")
			values := reviewedRound3Run(t, fe, steps)
			if s := reviewedSecret(values); s != "" {
				t.Errorf("the client received a %s value", s)
			}
		})
	}
}

// TestReviewedRound3PolicyReloadPrepared: a statement prepared under one policy
// is bound and executed after a reload with its old decision.
func TestReviewedRound3PolicyReloadPrepared(t *testing.T) {
	addr, db, pf, store := analysisProxy(t)
	fe := rawAs(t, addr, db, "auditor")
	reviewedRound3Run(t, fe, [][]pgproto3.FrontendMessage{
		{&pgproto3.Parse{Name: "s", Query: "SELECT amount + 0 FROM bk.payroll"}, &pgproto3.Sync{}},
	})
	changed := strings.Replace(analysiscases.Policy, "      salary: clear\n", "      salary: {mask: round, to: 1000}\n", 1)
	if changed == analysiscases.Policy {
		t.Fatal("policy edit did not apply")
	}
	if err := os.WriteFile(pf, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.Reload(); err != nil {
		t.Fatal(err)
	}
	// The same text is refused now.
	reviewedRound3Run(t, fe, [][]pgproto3.FrontendMessage{
		{&pgproto3.Parse{Name: "t", Query: "SELECT amount + 0 FROM bk.payroll"}, &pgproto3.Sync{}},
	})
	values := reviewedRound3Run(t, fe, [][]pgproto3.FrontendMessage{
		{&pgproto3.Bind{PreparedStatement: "s"}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
	})
	if s := reviewedSecret(values); s != "" {
		t.Errorf("after the reload the client received a %s value", s)
	}
}

// TestReviewedRound3FlushHidesTransaction: BEGIN run with the extended protocol
// and a Flush (no Sync) leaves the queue empty and the last
// ReadyForQuery's status 'I', so a SET search_path that follows counts as
// sent alone outside a transaction and collapses the possible paths; a
// ROLLBACK then restores the old path in PostgreSQL only.
func TestReviewedRound3FlushHidesTransaction(t *testing.T) {
	addr, db := reviewedSetup(t)
	fe := rawAs(t, addr, db, "analyst")
	steps := [][]pgproto3.FrontendMessage{
		{&pgproto3.Query{String: "SET search_path = bk"}},
	}
	values := reviewedRound3Run(t, fe, steps)
	for _, m := range []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "BEGIN"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{}} {
		fe.Send(m)
	}
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("BEGIN+Flush -> %T", m)
		if _, ok := m.(*pgproto3.CommandComplete); ok {
			break
		}
	}
	values = append(values, reviewedRound3Run(t, fe, [][]pgproto3.FrontendMessage{
		{&pgproto3.Query{String: "SET search_path = staging"}},
		{&pgproto3.Query{String: "ROLLBACK"}},
		{&pgproto3.Sync{}},
		{&pgproto3.Query{String: "SHOW search_path"}},
		{&pgproto3.Query{String: "SELECT id_no || '' FROM contacts"}},
	})...)
	if s := reviewedSecret(values); s != "" {
		t.Errorf("the client received a %s value", s)
	}
}

// TestReviewedRound3UescapeNormalizedKey: UESCAPE's string literal decides what a
// U&"..." identifier names, but the normalized cache key replaces it with
// a placeholder: a text analysed with one escape character serves another.
func TestReviewedRound3UescapeNormalizedKey(t *testing.T) {
	addr, db := reviewedSetup(t)
	const tmpl = `SELECT U&"!0063" UESCAPE '%s'.id_no || '' FROM bk.contacts c LEFT JOIN staging.contacts "!0063" ON false`
	fe := rawAs(t, addr, db, "analyst")
	values := reviewedRound3Run(t, fe, [][]pgproto3.FrontendMessage{
		{&pgproto3.Query{String: fmt.Sprintf(tmpl, "#")}},
		{&pgproto3.Query{String: fmt.Sprintf(tmpl, "!")}},
	})
	if s := reviewedSecret(values); s != "" {
		t.Errorf("the client received a %s value", s)
	}
	// Control: the second text on its own, in a fresh proxy cache state.
	fe2 := rawAs(t, addr, db, "intern")
	tr, _ := reviewedExchange(t, fe2, 1, &pgproto3.Query{String: fmt.Sprintf(tmpl, "!")})
	t.Logf("control (intern, uncached) -> %v", tr)
}

// TestReviewedRound3ParsedExecuteRedefined: a protocol statement whose text is
// EXECUTE or FETCH carries the analysis of the statement or cursor the
// name stood for when it was parsed; protocol Close and Parse (or Close
// and Bind of a portal) redefine that name without any text, and the
// old analysis is applied to the new rows.
func TestReviewedRound3ParsedExecuteRedefined(t *testing.T) {
	addr, db := reviewedSetup(t)
	for name, steps := range map[string][][]pgproto3.FrontendMessage{
		"EXECUTE": {
			{&pgproto3.Query{String: "PREPARE s AS SELECT 'x'::text"}},
			{&pgproto3.Parse{Name: "e", Query: "EXECUTE s"}, &pgproto3.Sync{}},
			{&pgproto3.Close{ObjectType: 'S', Name: "s"}, &pgproto3.Parse{Name: "s", Query: reviewedUnion}, &pgproto3.Sync{}},
			{&pgproto3.Bind{PreparedStatement: "e"}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		},
		"FETCH": {
			{&pgproto3.Query{String: "BEGIN"}},
			{&pgproto3.Query{String: "DECLARE c CURSOR FOR SELECT 'x'::text"}},
			{&pgproto3.Parse{Name: "f", Query: "FETCH ALL FROM c"}, &pgproto3.Sync{}},
			{&pgproto3.Close{ObjectType: 'P', Name: "c"}, &pgproto3.Parse{Name: "y", Query: reviewedUnion},
				&pgproto3.Bind{DestinationPortal: "c", PreparedStatement: "y"}, &pgproto3.Sync{}},
			{&pgproto3.Bind{PreparedStatement: "f"}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fe := rawAs(t, addr, db, "analyst")
			values := reviewedRound3Run(t, fe, steps)
			if s := reviewedSecret(values); s != "" {
				t.Errorf("the client received a %s value", s)
			}
		})
	}
}
