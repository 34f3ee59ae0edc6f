package main

// Audit review, round 4: exactness. One record per client statement —
// each statement of a simple Query, each Execute, COPY, a FunctionCall,
// a refused statement with its reason, a failed one with its SQLSTATE —
// on every protocol path. Statements PostgreSQL skips (the rest of a
// simple Query after an error, the messages after an extended-protocol
// error until Sync) never ran and PostgreSQL answers nothing for them:
// by the README's decisions (allowed, masked, tokenized: it ran;
// refused: pgmantle stopped it; failed: PostgreSQL's error) none fits,
// and they get no record.
// TestAuditReview4* named after a defect failed before its fix;
// TestAuditReview4Holds documents the paths checked that held.

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// r4Conn is a raw protocol connection through pgmantle whose records
// carry application_name app.
type r4Conn struct {
	*reviewConn
	conn net.Conn
}

func r4Connect(t *testing.T, s *auditServer, user, password, app string) *r4Conn {
	t.Helper()
	ctx := pgtest.Context(t)
	cred := user
	if password != "" {
		cred += ":" + password
	}
	pc, err := pgconn.Connect(ctx, "postgres://"+cred+"@"+s.addr+"/postgres?sslmode=disable&application_name="+app)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	hc.Conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &r4Conn{reviewConn: &reviewConn{t: t, fe: hc.Frontend}, conn: hc.Conn}
	c.close = func() {
		hc.Frontend.Send(&pgproto3.Terminate{})
		hc.Frontend.Flush()
		hc.Conn.Close()
	}
	t.Cleanup(c.close)
	return c
}

// execute is Parse, Bind and Execute of sql (unnamed) with no parameters.
func execute(sql string, maxRows uint32) []pgproto3.FrontendMessage {
	return []pgproto3.FrontendMessage{&pgproto3.Parse{Query: sql}, &pgproto3.Bind{},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{MaxRows: maxRows}}
}

// r4Records returns the statement records of the sessions named app.
func r4Records(recs []audit.Entry, app string) []audit.Entry {
	var out []audit.Entry
	for _, e := range recs {
		if e.Type == audit.TypeStatement && e.ApplicationName == app {
			out = append(out, e)
		}
	}
	return out
}

// want is what one record must say.
type want struct {
	sql, kind, decision, sqlstate, protocol string
	rows                                    int64
}

func checkRecords(t *testing.T, got []audit.Entry, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		for _, e := range got {
			t.Logf("record: %+v", e)
		}
		t.Fatalf("%d records, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		e := got[i]
		if e.SQL != w.sql || e.Kind != w.kind || e.Decision != w.decision || e.SQLState != w.sqlstate ||
			e.Protocol != w.protocol || e.Rows != w.rows {
			t.Errorf("record %d: {sql %q kind %q decision %s sqlstate %q protocol %s rows %d}, want %+v",
				i, e.SQL, e.Kind, e.Decision, e.SQLState, e.Protocol, e.Rows, w)
		}
	}
}

// slowNoRows takes about a tenth of a second (well under the 2 s a
// vanished client's statement gets before its cancel, even on a loaded
// machine) and returns no row; in a Query after a DECLARE it keeps the
// Query unanswered while the next is admitted.
const (
	slowNoRows           = "SELECT 1 WHERE (SELECT count(*) FROM generate_series(1, 1000000)) < 0"
	slowNoRowsNormalized = "SELECT $3 WHERE (SELECT count(*) FROM generate_series($4, $5)) < $6"
)

// TestAuditReview4StatementCutShort: a statement whose answer was being
// relayed when the session ended got no record at all — a client that
// vanished mid-result had been sent rows of a statement that ran, and an
// analyst's FETCH whose result pgmantle refused (ending the session with
// a FATAL 42501) left neither a refused nor a failed record.
func TestAuditReview4StatementCutShort(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)
	for _, role := range []struct{ user, pw string }{{"bookkeeper", "pw"}, {"analyst", "pw"}} {
		conn := r4Connect(t, s, role.user, role.pw, "r4gone_"+role.user)
		conn.fe.Send(&pgproto3.Query{String: "SELECT repeat('x', 2000) FROM generate_series(1, 100000)"})
		if err := conn.fe.Flush(); err != nil {
			t.Fatal(err)
		}
		for rows := 0; rows < 10; {
			m, err := conn.fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := m.(*pgproto3.DataRow); ok {
				rows++
			}
		}
		conn.conn.Close() // no Terminate
	}
	{
		// A FETCH admitted while the DECLARE of its cursor is still in
		// flight (an earlier Query, held back by a long count) reads a
		// cursor pgmantle cannot know: its result is refused after it ran.
		conn := r4Connect(t, s, "analyst", "pw", "r4fetch")
		conn.fe.Send(&pgproto3.Query{String: "BEGIN; DECLARE r4c CURSOR FOR SELECT x FROM generate_series(1, 5) x; " + slowNoRows})
		conn.fe.Send(&pgproto3.Query{String: "FETCH 2 FROM r4c; COMMIT"})
		conn.fe.Flush()
		var codes []string
		for rfq := 0; rfq < 2; {
			m, err := conn.fe.Receive()
			if err != nil {
				break // pgmantle ends the session
			}
			if e, ok := m.(*pgproto3.ErrorResponse); ok {
				codes = append(codes, e.Severity+" "+e.Code)
			}
			if _, ok := m.(*pgproto3.ReadyForQuery); ok {
				rfq++
			}
		}
		if strings.Join(codes, ",") != "FATAL 42501" {
			t.Fatalf("FETCH: %v", codes)
		}
	}
	time.Sleep(500 * time.Millisecond)
	s.stop()
	recs := readAudit(t, filepath.Join(dir, "audit.log"))
	for _, user := range []string{"bookkeeper", "analyst"} {
		t.Run("client_gone_"+user, func(t *testing.T) {
			got := r4Records(recs, "r4gone_"+user)
			if len(got) != 1 {
				t.Fatalf("%d records of the statement cut short, want 1", len(got))
			}
			// Either pgmantle's write to the closed socket fails first (cut
			// short: failed 08006), or it reads the client's end first and
			// lets the statement finish for no one (allowed, or failed
			// 57014 once cancelled, with the reason); rows count what
			// reached the client.
			e := got[0]
			cutShort := e.Decision == audit.DecisionFailed && e.SQLState == "08006"
			drained := strings.Contains(e.Reason, "discarded") &&
				(e.Decision == audit.DecisionAllowed || e.Decision == audit.DecisionFailed && e.SQLState == "57014")
			if e.SQL != "SELECT repeat($1, $2) FROM generate_series($3, $4)" || e.Kind != "SELECT" ||
				!(cutShort || drained) || e.Rows < 10 || e.Rows >= 100000 {
				t.Errorf("record: %+v", e)
			}
		})
	}
	t.Run("fetch_refused_at_result", func(t *testing.T) {
		got := r4Records(recs, "r4fetch")
		checkRecords(t, got, []want{
			{"BEGIN", "BEGIN", "allowed", "", "simple", 0},
			{"DECLARE r4c CURSOR FOR SELECT x FROM generate_series($1, $2) x", "DECLARE CURSOR", "allowed", "", "simple", 0},
			{slowNoRowsNormalized, "SELECT", "allowed", "", "simple", 0},
			{"FETCH $1 FROM r4c", "FETCH", "refused", "42501", "simple", 0},
		})
		if len(got) == 4 && !strings.Contains(got[3].Reason, "origin cannot be established") {
			t.Errorf("reason %q", got[3].Reason)
		}
	})
}

// TestAuditReview4ExecuteOfMissingPortal: an Execute of a portal that
// does not exist fails with 34000. For an unrestricted role the failed
// Execute is recorded; for a restricted one pgmantle's own Describe ahead
// of the Execute met the error, and the Execute got no record.
func TestAuditReview4ExecuteOfMissingPortal(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)
	for _, role := range []struct{ user, pw string }{{"bookkeeper", "pw"}, {"analyst", "pw"}} {
		conn := r4Connect(t, s, role.user, role.pw, "r4noportal_"+role.user)
		if _, codes := conn.run(&pgproto3.Execute{Portal: "r4_missing"}, &pgproto3.Sync{}); len(codes) != 1 || codes[0] != "34000" {
			t.Fatalf("%s: %v", role.user, codes)
		}
		if _, codes := conn.simple("SELECT 1"); len(codes) != 0 {
			t.Fatalf("%s: %v", role.user, codes)
		}
		conn.close()
	}
	s.stop()
	recs := readAudit(t, filepath.Join(dir, "audit.log"))
	for _, user := range []string{"bookkeeper", "analyst"} {
		t.Run(user, func(t *testing.T) {
			checkRecords(t, r4Records(recs, "r4noportal_"+user), []want{
				{"", "", audit.DecisionFailed, "34000", "extended", 0},
				{"SELECT $1", "SELECT", audit.DecisionAllowed, "", "simple", 1},
			})
		})
	}
}

// TestAuditReview4ClientVanishesBeforeAnswer: a client that sent
// statements and disconnected (no Terminate) before their answers arrived
// left no record, though PostgreSQL may have read and run them — an
// INSERT committed with nothing in the audit log. pgmantle now gives
// PostgreSQL what a direct connection would (everything sent, then the
// end of input), discards the answers, cancels what still runs after 2 s,
// closes upstream after 10 s, and records each statement as it ended,
// with a reason saying the answer went to no one. Scenarios from the
// review of the first version: a statement pipelined behind a result
// (was lost when the result was cut short), a restricted FETCH refused by
// policy (was recorded as a network failure), a FATAL answer and a COPY
// FROM STDIN (were recorded two and three times), a statement outliving
// the cancel (was recorded failed though it committed later).
func TestAuditReview4ClientVanishesBeforeAnswer(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	ctx := pgtest.Context(t)
	if err := c.Exec(ctx, "DROP TABLE IF EXISTS public.r4_vanish, public.r4_ctas, public.r4_into; CREATE TABLE public.r4_vanish (id int); GRANT ALL ON public.r4_vanish TO PUBLIC;"+
		"GRANT CREATE ON SCHEMA public TO bookkeeper;"+
		"INSERT INTO bk.contacts (id, company_id, name, id_no) VALUES (41, 1, '张伟', '310105199003078032')"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)
	vanish := func(user, app string, msgs ...pgproto3.FrontendMessage) {
		conn := r4Connect(t, s, user, "pw", app)
		for _, m := range msgs {
			conn.fe.Send(m)
		}
		if err := conn.fe.Flush(); err != nil {
			t.Fatal(err)
		}
		conn.conn.Close() // no Terminate, no answer read
	}
	q := func(sql string) *pgproto3.Query { return &pgproto3.Query{String: sql} }
	vanish("bookkeeper", "r4v_insert", q("INSERT INTO public.r4_vanish VALUES (1)"))
	vanish("bookkeeper", "r4v_sleep", q("SELECT pg_sleep(30)"))
	vanish("bookkeeper", "r4v_unsynced", execute("INSERT INTO public.r4_vanish VALUES (2)", 0)...)
	vanish("analyst", "r4v_masked", q("SELECT name, id_no FROM bk.contacts WHERE id = 41"))
	vanish("bookkeeper", "r4v_pipe", q("SELECT x FROM generate_series(1, 50000) x"), q("INSERT INTO public.r4_vanish VALUES (3)"))
	vanish("analyst", "r4v_fetch", q("BEGIN; DECLARE r4vc CURSOR FOR SELECT x FROM generate_series(1, 5) x; "+slowNoRows), q("FETCH 2 FROM r4vc; COMMIT"))
	// The slow statement's result comes late, so pgmantle checks the
	// catalog before relaying it, and refuses it if a table appeared
	// meanwhile: the tables created below wait until the FETCH is recorded
	// (on a loaded machine the CREATE TABLE AS committed first).
	for deadline := time.Now().Add(30 * time.Second); len(r4Records(readAudit(t, filepath.Join(dir, "audit.log")), "r4v_fetch")) < 4; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("r4v_fetch: no record of its FETCH after 30 s")
		}
	}
	vanish("bookkeeper", "r4v_fatal", q("DO $$BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(1); END$$"))
	vanish("bookkeeper", "r4v_copy", q("COPY public.r4_vanish FROM STDIN"))
	// Rows stored, not sent: their tags' counts stand when the answer is
	// discarded (they were recorded as 0 rows).
	const slow = "WITH s AS MATERIALIZED (SELECT pg_sleep(1)) SELECT x FROM generate_series(1, 1000) x, s"
	vanish("bookkeeper", "r4v_ctas", q("CREATE TABLE public.r4_ctas AS "+slow))
	vanish("bookkeeper", "r4v_into", q("WITH s AS MATERIALIZED (SELECT pg_sleep(1)) SELECT x INTO public.r4_into FROM generate_series(1, 1000) x, s"))
	// Catches the cancel and runs on: still running when pgmantle gives up.
	vanish("bookkeeper", "r4v_late", q(`DO $$BEGIN
		FOR i IN 1..28 LOOP BEGIN PERFORM pg_sleep(0.5); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP;
		INSERT INTO public.r4_vanish VALUES (4); END$$`))

	// A client that ends its session (Terminate) inside a transaction.
	open := r4Connect(t, s, "bookkeeper", "pw", "r4v_open")
	if _, codes := open.simple("BEGIN; INSERT INTO public.r4_vanish VALUES (5)"); len(codes) > 0 {
		t.Fatal(codes)
	}
	open.close()

	counts := map[string]int{"r4v_open": 2, "r4v_insert": 1, "r4v_sleep": 1, "r4v_unsynced": 1, "r4v_masked": 1, "r4v_pipe": 2,
		"r4v_fetch": 4, "r4v_fatal": 1, "r4v_copy": 1, "r4v_late": 1, "r4v_ctas": 1, "r4v_into": 1}
	var recs []audit.Entry
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		recs = readAudit(t, filepath.Join(dir, "audit.log"))
		missing := 0
		for app, n := range counts {
			if len(r4Records(recs, app)) < n {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d vanished clients still lack records after 30 s", missing)
		}
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would follow at once
	recs = readAudit(t, filepath.Join(dir, "audit.log"))
	check := func(app string, wants ...want) []audit.Entry {
		t.Helper()
		got := r4Records(recs, app)
		checkRecords(t, got, wants)
		return got
	}
	const discarded, unknown = "answer (or its rest) was discarded", "whether it completed is unknown"
	reason := func(e audit.Entry, want string) {
		t.Helper()
		if !strings.Contains(e.Reason, want) {
			t.Errorf("%s %s: reason %q, want %q", e.ApplicationName, e.SQL, e.Reason, want)
		}
	}
	// A quick answer may be relayed before pgmantle sees the client gone:
	// it then counts as sent, with no reason. The sleep ends after.
	check("r4v_insert", want{"INSERT INTO public.r4_vanish VALUES ($1)", "INSERT", audit.DecisionAllowed, "", "simple", 1})
	for _, e := range check("r4v_sleep", want{"SELECT pg_sleep($1)", "SELECT", audit.DecisionFailed, "57014", "simple", 0}) {
		reason(e, discarded)
	}
	check("r4v_unsynced", want{"INSERT INTO public.r4_vanish VALUES ($1)", "INSERT", audit.DecisionAllowed, "", "extended", 1})
	// Its one row reached the client (1) or no one (0, discarded).
	if got := r4Records(recs, "r4v_masked"); len(got) != 1 || got[0].SQL != "SELECT name, id_no FROM bk.contacts WHERE id = $1" ||
		got[0].Decision != audit.DecisionMasked || got[0].Rows != 1 && !(got[0].Rows == 0 && strings.Contains(got[0].Reason, discarded)) {
		t.Errorf("restricted select of a vanished client: %+v", got)
	}
	if got := r4Records(recs, "r4v_pipe"); len(got) != 2 || got[0].Decision != audit.DecisionAllowed || got[0].Rows >= 50000 ||
		got[1].SQL != "INSERT INTO public.r4_vanish VALUES ($1)" || got[1].Decision != audit.DecisionAllowed || got[1].Rows != 1 {
		t.Errorf("a result streaming to no one, and the INSERT behind it: %+v", got)
	} else {
		reason(got[0], discarded)
	}
	got := check("r4v_fetch",
		want{"BEGIN", "BEGIN", audit.DecisionAllowed, "", "simple", 0},
		want{"DECLARE r4vc CURSOR FOR SELECT x FROM generate_series($1, $2) x", "DECLARE CURSOR", audit.DecisionAllowed, "", "simple", 0},
		want{slowNoRowsNormalized, "SELECT", audit.DecisionAllowed, "", "simple", 0},
		want{"FETCH $1 FROM r4vc", "FETCH", audit.DecisionRefused, "42501", "simple", 0})
	if len(got) == 4 && !strings.Contains(got[3].Reason, "origin cannot be established") {
		t.Errorf("FETCH refusal reason %q", got[3].Reason)
	}
	// The backend ends itself: its FATAL (57P01) reaches pgmantle, or,
	// when pgmantle's Flush for the vanished client arrived unread, the
	// kernel answers with a reset that may discard it (08006). Either
	// way one record, failed.
	if got := r4Records(recs, "r4v_fatal"); len(got) != 1 || got[0].SQL != "DO ?" || got[0].Decision != audit.DecisionFailed ||
		got[0].SQLState != "57P01" && got[0].SQLState != "08006" {
		t.Errorf("a statement ended by its backend's FATAL: %+v", got)
	}
	check("r4v_copy", want{"COPY public.r4_vanish FROM STDIN", "COPY", audit.DecisionFailed, "08006", "simple", 0})
	for _, e := range append(check("r4v_ctas", want{"CREATE TABLE public.r4_ctas AS WITH s AS MATERIALIZED (SELECT pg_sleep($1)) SELECT x FROM generate_series($2, $3) x, s",
		"SELECT", audit.DecisionAllowed, "", "simple", 1000}),
		check("r4v_into", want{"WITH s AS MATERIALIZED (SELECT pg_sleep($3)) SELECT x INTO public.r4_into FROM generate_series($1, $2) x, s",
			"SELECT", audit.DecisionAllowed, "", "simple", 1000})...) {
		reason(e, discarded)
	}
	// Usually abandoned; a cancel that lands outside the handler (a
	// starved machine) fails it, which is recorded as such.
	for _, e := range r4Records(recs, "r4v_late") {
		if !(e.Decision == audit.DecisionFailed && (strings.Contains(e.Reason, unknown) || e.SQLState == "57014" && strings.Contains(e.Reason, discarded))) {
			t.Errorf("a statement outliving the cancel: %+v", e)
		}
	}

	// The session end says when an open transaction was rolled back.
	for app, rolledBack := range map[string]bool{"r4v_insert": false, "r4v_unsynced": true, "r4v_sleep": false, "r4v_open": true} {
		var ends []string
		for _, e := range recs {
			if e.Type == audit.TypeSessionEnd && e.ApplicationName == app {
				ends = append(ends, e.Reason)
			}
		}
		if len(ends) != 1 || strings.Contains(ends[0], "open transaction was rolled back") != rolledBack {
			t.Errorf("%s: session end %q, want rolled back %v", app, ends, rolledBack)
		}
	}

	// The simple INSERTs committed, the unsynced one rolled back, as for a
	// direct client; the abandoned one may commit later (unknown).
	var ids []int32
	rows, err := pgtest.Connect(t, c.DSN("postgres", "", "postgres")).Query(ctx, "SELECT id FROM public.r4_vanish WHERE id <> 4 ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int32
		rows.Scan(&id)
		ids = append(ids, id)
	}
	if fmt.Sprint(ids) != "[1 3]" {
		t.Errorf("rows in the table after the vanished clients: %v, want [1 3]", ids)
	}
	s.stop()
}

// TestAuditReview4CommitFailsAtSync: an extended-protocol implicit
// transaction commits at the Sync, so a deferred constraint fails there,
// after the statements' CommandCompletes. That error was in no record: the
// INSERT's record said allowed, 1 row, though it was rolled back. Each
// statement keeps its record as it ran (rows sent are disclosed, whatever
// the commit does); the failed commit gets a record of its own: kind
// COMMIT, failed, its SQLSTATE, no SQL (the client sent none) and the
// reason. A simple Query commits before its last statement's
// CommandComplete, so PostgreSQL reports that statement failed, and so
// does its record (this held before).
func TestAuditReview4CommitFailsAtSync(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)
	conn := r4Connect(t, s, "bookkeeper", "pw", "r4commit")
	if _, codes := conn.simple("CREATE TEMP TABLE r4_parent (id int PRIMARY KEY); " +
		"CREATE TEMP TABLE r4_child (p int REFERENCES r4_parent DEFERRABLE INITIALLY DEFERRED)"); len(codes) > 0 {
		t.Fatal(codes)
	}
	// Extended protocol: two statements in the implicit transaction.
	msgs := append(execute("INSERT INTO r4_child VALUES (7)", 0), execute("SELECT 1", 0)...)
	if _, codes := conn.run(append(msgs, &pgproto3.Sync{})...); len(codes) != 1 || codes[0] != "23503" {
		t.Fatalf("%v", codes)
	}
	// Simple protocol: the same, in one Query.
	if _, codes := conn.simple("INSERT INTO r4_child VALUES (8); SELECT 2"); len(codes) != 1 || codes[0] != "23503" {
		t.Fatalf("%v", codes)
	}
	// A commit that succeeds, and a statement that fails itself, add no
	// commit record.
	if _, codes := conn.run(append(execute("INSERT INTO r4_parent VALUES (9)", 0), &pgproto3.Sync{})...); len(codes) != 0 {
		t.Fatalf("%v", codes)
	}
	if _, codes := conn.simple("INSERT INTO r4_parent VALUES (10); SELECT 1/0"); len(codes) != 1 || codes[0] != "22012" {
		t.Fatalf("%v", codes)
	}
	conn.close()
	s.stop()
	got := r4Records(readAudit(t, filepath.Join(dir, "audit.log")), "r4commit")
	got = got[2:] // the CREATE TABLEs
	checkRecords(t, got, []want{
		{"INSERT INTO r4_child VALUES ($1)", "INSERT", audit.DecisionAllowed, "", "extended", 1},
		{"SELECT $1", "SELECT", audit.DecisionAllowed, "", "extended", 1},
		{"", "COMMIT", audit.DecisionFailed, "23503", "extended", 0},
		{"INSERT INTO r4_child VALUES ($1)", "INSERT", audit.DecisionAllowed, "", "simple", 1},
		{"SELECT $2", "SELECT", audit.DecisionFailed, "23503", "simple", 1},
		{"INSERT INTO r4_parent VALUES ($1)", "INSERT", audit.DecisionAllowed, "", "extended", 1},
		{"INSERT INTO r4_parent VALUES ($1)", "INSERT", audit.DecisionAllowed, "", "simple", 1},
		{"SELECT $2/$3", "SELECT", audit.DecisionFailed, "22012", "simple", 0},
	})
	if d := got[2].DurationUS; d < 0 || d > 10_000_000 {
		t.Errorf("commit record: duration %d µs", d)
	}
	if !strings.Contains(got[2].Reason, "rolled back") {
		t.Errorf("commit record: reason %q, want the implicit commit explained", got[2].Reason)
	}
}

func TestAuditReview4Holds(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	ctx := pgtest.Context(t)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)
	if err := c.Exec(ctx, "CREATE TABLE IF NOT EXISTS public.r4_copy (id int, note text); GRANT ALL ON public.r4_copy TO PUBLIC"); err != nil {
		t.Fatal(err)
	}

	type scenario struct {
		name, user, pw string
		run            func(t *testing.T, c *r4Conn)
		wants          []want
	}
	codes := func(t *testing.T, want string, got []string) {
		t.Helper()
		if strings.Join(got, ",") != want {
			t.Fatalf("errors %v, want %q", got, want)
		}
	}
	copyInWith := func(t *testing.T, c *r4Conn, start []pgproto3.FrontendMessage, msgs ...pgproto3.FrontendMessage) []string {
		t.Helper()
		for _, m := range start {
			c.fe.Send(m)
		}
		c.fe.Flush()
		var out []string
		for sent := false; ; {
			m, err := c.fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			switch m := m.(type) {
			case *pgproto3.CopyInResponse:
				for _, msg := range msgs {
					c.fe.Send(msg)
				}
				c.fe.Flush()
				sent = true
			case *pgproto3.ErrorResponse:
				out = append(out, m.Code)
			case *pgproto3.ReadyForQuery:
				if !sent {
					t.Fatal("no CopyInResponse")
				}
				return out
			}
		}
	}
	copyIn := func(t *testing.T, c *r4Conn, sql string, msgs ...pgproto3.FrontendMessage) []string {
		t.Helper()
		return copyInWith(t, c, []pgproto3.FrontendMessage{&pgproto3.Query{String: sql}}, msgs...)
	}
	scenarios := []scenario{
		{name: "extended_copy_fail", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				// libpq's way: a Sync right behind the Execute (ignored by
				// PostgreSQL during the COPY) and one after the CopyFail.
				got := copyInWith(t, c, append(execute("COPY r4_copy FROM STDIN", 0), &pgproto3.Sync{}),
					&pgproto3.CopyData{Data: []byte("1\tSEEDR4COPY\n")}, &pgproto3.CopyFail{Message: "client gave up"}, &pgproto3.Sync{})
				codes(t, "57014", got)
				_, got = c.simple("SELECT 1")
				codes(t, "", got)
			},
			wants: []want{
				{"COPY r4_copy FROM STDIN", "COPY", "failed", "57014", "extended", 0},
				{"SELECT $1", "SELECT", "allowed", "", "simple", 1},
			}},
		{name: "simple_error_in_2_of_3", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				_, got := c.simple("SELECT 1; SELECT 1/0; SELECT 2")
				codes(t, "22012", got)
			},
			wants: []want{
				{"SELECT $1", "SELECT", "allowed", "", "simple", 1},
				{"SELECT $2/$3", "SELECT", "failed", "22012", "simple", 0},
			}},
		{name: "simple_error_mid_rows", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				_, got := c.simple("SELECT 1/(3 - x) FROM generate_series(1, 5) x")
				codes(t, "22012", got)
			},
			wants: []want{{"SELECT $1/($2 - x) FROM generate_series($3, $4) x", "SELECT", "failed", "22012", "simple", 2}}},
		{name: "empty_query", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				_, got := c.simple("")
				codes(t, "", got)
				_, got = c.run(append(execute("", 0), &pgproto3.Sync{})...)
				codes(t, "", got)
			},
			wants: []want{
				{"", "", "allowed", "", "simple", 0},
				{"", "", "allowed", "", "extended", 0},
			}},
		{name: "pipeline_error_skips_rest", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				var msgs []pgproto3.FrontendMessage
				msgs = append(msgs, execute("SELECT 1", 0)...)
				msgs = append(msgs, execute("SELECT 1/0", 0)...)
				msgs = append(msgs, execute("SELECT 2", 0)...)
				msgs = append(msgs, &pgproto3.Sync{})
				msgs = append(msgs, execute("SELECT 3", 0)...)
				msgs = append(msgs, &pgproto3.Sync{})
				_, got := c.run(msgs...)
				codes(t, "22012", got)
			},
			wants: []want{
				{"SELECT $1", "SELECT", "allowed", "", "extended", 1},
				{"SELECT $1/$2", "SELECT", "failed", "22012", "extended", 0},
				{"SELECT $1", "SELECT", "allowed", "", "extended", 1},
			}},
		{name: "pipeline_refused_skips_rest", user: "analyst", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				var msgs []pgproto3.FrontendMessage
				msgs = append(msgs, execute("SELECT 1", 0)...)
				msgs = append(msgs, execute("SELECT address FROM bk.contacts", 0)...)
				msgs = append(msgs, execute("SELECT 2", 0)...)
				msgs = append(msgs, &pgproto3.Sync{})
				msgs = append(msgs, execute("SELECT name FROM bk.contacts", 0)...)
				msgs = append(msgs, &pgproto3.Sync{})
				_, got := c.run(msgs...)
				codes(t, "42501", got)
			},
			wants: []want{
				{"SELECT $1", "SELECT", "allowed", "", "extended", 1},
				{"SELECT address FROM bk.contacts", "SELECT", "refused", "42501", "extended", 0},
				{"SELECT name FROM bk.contacts", "SELECT", "masked", "", "extended", 0},
			}},
		{name: "portal_suspended_then_resumed", user: "analyst", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				msgs := execute("SELECT x FROM generate_series(1, 5) x", 2)
				msgs = append(msgs, &pgproto3.Execute{}, &pgproto3.Sync{})
				vals, got := c.run(msgs...)
				codes(t, "", got)
				if len(vals) != 5 {
					t.Fatalf("%d rows", len(vals))
				}
			},
			wants: []want{
				{"SELECT x FROM generate_series($1, $2) x", "SELECT", "allowed", "", "extended", 2},
				{"SELECT x FROM generate_series($1, $2) x", "SELECT", "allowed", "", "extended", 3},
			}},
		{name: "statement_timeout", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				_, got := c.simple("SET statement_timeout = 50; SELECT pg_sleep(2)")
				codes(t, "57014", got)
				c.simple("RESET statement_timeout")
			},
			wants: []want{
				{"SET statement_timeout = $1", "SET", "allowed", "", "simple", 0},
				{"SELECT pg_sleep($2)", "SELECT", "failed", "57014", "simple", 0},
				{"RESET statement_timeout", "RESET", "allowed", "", "simple", 0},
			}},
		{name: "copy_fail_from_client", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				got := copyIn(t, c, "COPY r4_copy FROM STDIN", &pgproto3.CopyData{Data: []byte("1\tSEEDR4COPY\n")},
					&pgproto3.CopyFail{Message: "client gave up"})
				codes(t, "57014", got)
			},
			wants: []want{{"COPY r4_copy FROM STDIN", "COPY", "failed", "57014", "simple", 0}}},
		{name: "copy_bad_row", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				got := copyIn(t, c, "COPY r4_copy FROM STDIN", &pgproto3.CopyData{Data: []byte("1\ta\nnot-a-number\tb\n")},
					&pgproto3.CopyDone{})
				codes(t, "22P02", got)
			},
			wants: []want{{"COPY r4_copy FROM STDIN", "COPY", "failed", "22P02", "simple", 0}}},
		{name: "copy_in_ok_then_copy_out", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				got := copyIn(t, c, "COPY r4_copy FROM STDIN", &pgproto3.CopyData{Data: []byte("1\ta\n2\tb\n")}, &pgproto3.CopyDone{})
				codes(t, "", got)
				_, got = c.simple("COPY (SELECT x FROM generate_series(1, 3) x) TO STDOUT")
				codes(t, "", got)
			},
			wants: []want{
				{"COPY r4_copy FROM STDIN", "COPY", "allowed", "", "simple", 2},
				{"COPY (SELECT x FROM generate_series($1, $2) x) TO STDOUT", "COPY", "allowed", "", "simple", 3},
			}},
		{name: "function_call_fails", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				_, got := c.run(&pgproto3.FunctionCall{Function: 177, ArgFormatCodes: []uint16{0}, // int4pl
					Arguments: [][]byte{[]byte("2147483647"), []byte("1")}})
				codes(t, "22003", got)
			},
			wants: []want{{"", "FUNCTION CALL", "failed", "22003", "function", 0}}},
		{name: "implicit_block_rolled_back", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				_, got := c.simple("INSERT INTO r4_copy VALUES (9, 'x'); SELECT 1/0; INSERT INTO r4_copy VALUES (10, 'y')")
				codes(t, "22012", got)
			},
			wants: []want{
				{"INSERT INTO r4_copy VALUES ($1, $2)", "INSERT", "allowed", "", "simple", 1},
				{"SELECT $3/$4", "SELECT", "failed", "22012", "simple", 0},
			}},
		{name: "aborted_transaction", user: "analyst", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				_, got := c.simple("BEGIN")
				_, got2 := c.simple("SELECT 1/0")
				_, got3 := c.simple("SELECT name FROM bk.contacts")
				_, got4 := c.simple("ROLLBACK")
				codes(t, "22012,25P02", append(append(append(got, got2...), got3...), got4...))
			},
			wants: []want{
				{"BEGIN", "BEGIN", "allowed", "", "simple", 0},
				{"SELECT $1/$2", "SELECT", "failed", "22012", "simple", 0},
				{"SELECT name FROM bk.contacts", "SELECT", "failed", "25P02", "simple", 0},
				{"ROLLBACK", "ROLLBACK", "allowed", "", "simple", 0},
			}},
		{name: "cursor_and_sql_prepare", user: "bookkeeper", pw: "pw",
			run: func(t *testing.T, c *r4Conn) {
				_, got := c.simple("BEGIN; DECLARE r4c CURSOR FOR SELECT x FROM generate_series(1, 5) x; FETCH 2 FROM r4c; FETCH ALL FROM r4c; COMMIT")
				codes(t, "", got)
				_, got = c.simple("PREPARE r4p AS SELECT $1::int + 1; EXECUTE r4p(41)")
				codes(t, "", got)
			},
			wants: []want{
				{"BEGIN", "BEGIN", "allowed", "", "simple", 0},
				{"DECLARE r4c CURSOR FOR SELECT x FROM generate_series($1, $2) x", "DECLARE CURSOR", "allowed", "", "simple", 0},
				{"FETCH $3 FROM r4c", "FETCH", "allowed", "", "simple", 2},
				{"FETCH ALL FROM r4c", "FETCH", "allowed", "", "simple", 3},
				{"COMMIT", "COMMIT", "allowed", "", "simple", 0},
				{"PREPARE r4p AS SELECT $1::int + $2", "PREPARE", "allowed", "", "simple", 0},
				{"EXECUTE r4p($3)", "SELECT", "allowed", "", "simple", 1},
			}},
	}
	for _, sc := range scenarios {
		conn := r4Connect(t, s, sc.user, sc.pw, "r4_"+sc.name)
		sc.run(t, conn)
		conn.close()
	}

	// Terminate right behind a Query, not waiting for the answer.
	{
		conn := r4Connect(t, s, "bookkeeper", "pw", "r4_terminate")
		conn.fe.Send(&pgproto3.Query{String: "SELECT 1; INSERT INTO r4_copy VALUES (11, 'z')"})
		conn.fe.Send(&pgproto3.Terminate{})
		conn.fe.Flush()
		conn.conn.Close()
	}
	// A statement cancelled by a CancelRequest.
	{
		pc, err := pgconn.Connect(ctx, "postgres://bookkeeper:pw@"+s.addr+"/postgres?sslmode=disable&application_name=r4_cancel")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(300 * time.Millisecond)
			pc.CancelRequest(context.Background())
		}()
		_, err = pc.Exec(ctx, "SELECT pg_sleep(5)").ReadAll()
		if pe, ok := err.(*pgconn.PgError); !ok || pe.Code != "57014" {
			t.Fatalf("cancel: %v", err)
		}
		pc.Close(ctx)
	}
	time.Sleep(300 * time.Millisecond)
	s.stop()
	recs := readAudit(t, filepath.Join(dir, "audit.log"))
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { checkRecords(t, r4Records(recs, "r4_"+sc.name), sc.wants) })
	}
	t.Run("terminate_after_query", func(t *testing.T) {
		checkRecords(t, r4Records(recs, "r4_terminate"), []want{
			{"SELECT $1", "SELECT", "allowed", "", "simple", 1},
			{"INSERT INTO r4_copy VALUES ($2, $3)", "INSERT", "allowed", "", "simple", 1},
		})
	})
	t.Run("cancel", func(t *testing.T) {
		checkRecords(t, r4Records(recs, "r4_cancel"), []want{{"SELECT pg_sleep($1)", "SELECT", "failed", "57014", "simple", 0}})
	})
	t.Run("no_copy_data", func(t *testing.T) { checkNoSeed(t, reviewFiles(t, dir), "SEEDR4COPY") })
}
