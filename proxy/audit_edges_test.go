package proxy_test

// Audit records at the edges of a session: a client that vanishes while
// its statements are answered, a forced shutdown, and the session end's
// claim that an open transaction was rolled back. Found by reviews of the
// vanished-client drain (proxy/vanished.go); each test failed before its
// fix.

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/proxy"
)

// edgeAuditor keeps, per application_name, each statement as
// "SQL|tag|sqlstate|message" and each session end's reason.
type edgeAuditor struct {
	mu    sync.Mutex
	stmts map[string][]string
	ends  map[string][]string
}

type edgeSession struct {
	a   *edgeAuditor
	app string
}

func newEdgeAuditor() *edgeAuditor {
	return &edgeAuditor{stmts: map[string][]string{}, ends: map[string][]string{}}
}

func (a *edgeAuditor) Open(info *proxy.SessionInfo) proxy.SessionAuditor {
	return &edgeSession{a: a, app: info.StartupParams["application_name"]}
}
func (a *edgeAuditor) LoginFailed(*proxy.SessionInfo, string) {}
func (a *edgeAuditor) Refuse() *proxy.Error                   { return nil }

func (s *edgeSession) Statement(ev *proxy.StatementEvent) {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	s.a.stmts[s.app] = append(s.a.stmts[s.app], fmt.Sprintf("%s|%s|%s|%s", ev.SQL, ev.Tag, ev.SQLState, ev.Message))
}
func (s *edgeSession) Synced() {}
func (s *edgeSession) Ended(reason string) {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	s.a.ends[s.app] = append(s.a.ends[s.app], reason)
}

// ended waits until the session named app has ended and returns its
// statements and end reason.
func (a *edgeAuditor) ended(t *testing.T, app string) ([]string, string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		a.mu.Lock()
		stmts, ends := append([]string(nil), a.stmts[app]...), append([]string(nil), a.ends[app]...)
		a.mu.Unlock()
		if len(ends) > 0 {
			return stmts, ends[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %s did not end within 20 s", app)
		}
	}
}

// rawConn is a logged-in protocol connection through the proxy.
type rawConn struct {
	fe   *pgproto3.Frontend
	conn net.Conn
}

func rawConnect(t *testing.T, p *testProxy, app string) *rawConn {
	t.Helper()
	pc, err := pgconn.Connect(pgtest.Context(t), p.dsn("postgres", "", "postgres", "application_name="+app))
	if err != nil {
		t.Fatal(err)
	}
	hc, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	hc.Conn.SetDeadline(time.Now().Add(60 * time.Second))
	t.Cleanup(func() { hc.Conn.Close() })
	return &rawConn{fe: hc.Frontend, conn: hc.Conn}
}

func (c *rawConn) send(t *testing.T, msgs ...pgproto3.FrontendMessage) {
	t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		t.Fatal(err)
	}
}

func (c *rawConn) untilReady(t *testing.T) {
	t.Helper()
	for {
		m, err := c.fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			return
		}
	}
}

func unnamedExec(sql string) []pgproto3.FrontendMessage {
	return []pgproto3.FrontendMessage{&pgproto3.Parse{Query: sql}, &pgproto3.Bind{}, &pgproto3.Execute{}}
}

// edgeTable creates a fresh table and returns a function listing its ids.
func edgeTable(t *testing.T, name string) func() string {
	t.Helper()
	ctx := pgtest.Context(t)
	db := directConn(t)
	if _, err := db.Exec(ctx, "DROP TABLE IF EXISTS "+name+"; CREATE TABLE "+name+" (id int)"); err != nil {
		t.Fatal(err)
	}
	return func() string {
		var ids []int32
		rows, err := db.Query(ctx, "SELECT id FROM "+name+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int32
			rows.Scan(&id)
			ids = append(ids, id)
		}
		return fmt.Sprint(ids)
	}
}

// TestAuditVanishedMidResultKeepsPipelinedStatements: a client reads a
// few rows of a large result, an INSERT pipelined behind it, and closes
// its socket with data unread (a reset). Whichever direction notices
// first, the INSERT that PostgreSQL runs gets its record (it was lost
// when a failed write to the client ended the session at once).
func TestAuditVanishedMidResultKeepsPipelinedStatements(t *testing.T) {
	t.Parallel()
	ids := edgeTable(t, "edge_pipe")
	aud := newEdgeAuditor()
	p := startProxy(t, func(s *proxy.Server) { s.Audit = aud })
	const sessions = 8
	for i := range sessions {
		c := rawConnect(t, p, fmt.Sprintf("edge_pipe%d", i))
		c.send(t, &pgproto3.Query{String: "SELECT repeat('x', 2000) FROM generate_series(1, 20000)"},
			&pgproto3.Query{String: fmt.Sprintf("INSERT INTO edge_pipe VALUES (%d)", i)})
		for rows := 0; rows < 3; {
			m, err := c.fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := m.(*pgproto3.DataRow); ok {
				rows++
			}
		}
		c.conn.Close()
	}
	for i := range sessions {
		stmts, _ := aud.ended(t, fmt.Sprintf("edge_pipe%d", i))
		insert := fmt.Sprintf("INSERT INTO edge_pipe VALUES (%d)|INSERT 0 1||", i)
		if !strings.Contains(strings.Join(stmts, "\n"), insert) {
			t.Errorf("session %d: records %q, want the INSERT's %q (table: %s)", i, stmts, insert, ids())
		}
	}
}

// TestAuditRollbackClaim: the session end says "its open transaction was
// rolled back" exactly when it was: not after an unsynced Execute of
// COMMIT (which, flushed before the Terminate, also gets its record) or
// of CREATE DATABASE, and yes after BEGIN and an INSERT.
func TestAuditRollbackClaim(t *testing.T) {
	t.Parallel()
	ids := edgeTable(t, "edge_claim")
	ctx := pgtest.Context(t)
	db := directConn(t)
	db.Exec(ctx, "DROP DATABASE IF EXISTS edge_claim_db")
	t.Cleanup(func() { directConn(t).Exec(context.Background(), "DROP DATABASE IF EXISTS edge_claim_db") })
	aud := newEdgeAuditor()
	p := startProxy(t, func(s *proxy.Server) { s.Audit = aud })
	cases := []struct {
		name       string
		tail       []pgproto3.FrontendMessage
		vanish     bool
		wantTag    string
		rolledBack bool
	}{
		{"commit_terminate", append(unnamedExec("COMMIT"), &pgproto3.Terminate{}), false, "COMMIT", false},
		{"commit_chain_vanish", unnamedExec("COMMIT AND CHAIN"), true, "COMMIT", false},
		{"end_terminate", append(unnamedExec("END"), &pgproto3.Terminate{}), false, "COMMIT", false},
		{"insert_terminate", append(unnamedExec("INSERT INTO edge_claim VALUES (100)"), &pgproto3.Terminate{}), false, "INSERT 0 1", true},
	}
	for i, tc := range cases {
		c := rawConnect(t, p, "edge_"+tc.name)
		c.send(t, &pgproto3.Query{String: fmt.Sprintf("BEGIN; INSERT INTO edge_claim VALUES (%d)", i)})
		c.untilReady(t)
		c.send(t, tc.tail...)
		if tc.vanish {
			c.conn.Close()
		}
		stmts, end := aud.ended(t, "edge_"+tc.name)
		if got := strings.Contains(end, "rolled back"); got != tc.rolledBack {
			t.Errorf("%s: session end %q, want rolled back %v (table %s)", tc.name, end, tc.rolledBack, ids())
		}
		if last := stmts[len(stmts)-1]; !strings.Contains(last, "|"+tc.wantTag+"|") {
			t.Errorf("%s: last record %q, want tag %s", tc.name, last, tc.wantTag)
		}
	}
	if got := ids(); got != "[0 1 2]" {
		t.Errorf("committed rows %s, want [0 1 2] (the three COMMITs; the last transaction rolled back)", got)
	}

	// An Execute that commits on its own, unsynced, then the client vanishes.
	c := rawConnect(t, p, "edge_createdb")
	c.send(t, unnamedExec("CREATE DATABASE edge_claim_db")...)
	c.conn.Close()
	if _, end := aud.ended(t, "edge_createdb"); strings.Contains(end, "rolled back") {
		t.Errorf("CREATE DATABASE: session end %q claims a rollback", end)
	}
}

// TestAuditShutdownMidStatement: a forced shutdown while PostgreSQL runs
// a statement — of a connected client and of a vanished one — records it
// failed with its outcome unknown (it had no record at all).
//
// The statements wait, ignoring cancels (the vanished client's is sent
// after 2 s), until the test releases them, and the shutdown comes once
// PostgreSQL shows both running: no timing on a loaded machine can let
// one finish first (a fixed 1.5 s statement did on CI).
func TestAuditShutdownMidStatement(t *testing.T) {
	t.Parallel()
	edgeTable(t, "edge_shut")
	ctx := pgtest.Context(t)
	db := directConn(t)
	release := func() { db.Exec(context.Background(), "INSERT INTO edge_shut VALUES (-1)") }
	t.Cleanup(release)
	aud := newEdgeAuditor()
	p := startProxy(t, func(s *proxy.Server) { s.Audit = aud })
	vanished := rawConnect(t, p, "edge_shut_vanished")
	connected := rawConnect(t, p, "edge_shut_connected")
	held := func(id int) string {
		return fmt.Sprintf(`DO $$BEGIN
			FOR i IN 1..600 LOOP
				BEGIN
					EXIT WHEN EXISTS (SELECT FROM edge_shut WHERE id = -1);
					PERFORM pg_sleep(0.05);
				EXCEPTION WHEN query_canceled THEN NULL;
				END;
			END LOOP;
			INSERT INTO edge_shut VALUES (%d);
		END$$`, id)
	}
	vanished.send(t, &pgproto3.Query{String: held(1)})
	vanished.conn.Close()
	connected.send(t, &pgproto3.Query{String: held(2)})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name IN ('edge_shut_vanished', 'edge_shut_connected')
			AND state = 'active' AND query LIKE 'DO %'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the 2 statements running after 20 s", n)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	p.srv.Shutdown(sctx)
	for _, app := range []string{"edge_shut_vanished", "edge_shut_connected"} {
		stmts, _ := aud.ended(t, app)
		if len(stmts) != 1 || !strings.HasSuffix(stmts[0], "|"+proxy.MessageAbandoned) {
			t.Errorf("%s: records %q, want the DO recorded with its outcome unknown", app, stmts)
		}
	}
}

// TestAuditVanishedCancelsEachLongStatement: two long statements queued
// by a client that vanished are both cancelled (a cancel every 2 s) and
// recorded failed 57014; with one cancel, the second ran into the 10 s
// limit and was recorded with its outcome unknown.
func TestAuditVanishedCancelsEachLongStatement(t *testing.T) {
	t.Parallel()
	aud := newEdgeAuditor()
	p := startProxy(t, func(s *proxy.Server) { s.Audit = aud })
	c := rawConnect(t, p, "edge_two_sleeps")
	c.send(t, &pgproto3.Query{String: "SELECT pg_sleep(30)"}, &pgproto3.Query{String: "SELECT pg_sleep(31)"})
	c.conn.Close()
	stmts, _ := aud.ended(t, "edge_two_sleeps")
	want := []string{"SELECT pg_sleep(30)||57014|", "SELECT pg_sleep(31)||57014|"}
	if fmt.Sprint(stmts) != fmt.Sprint(want) {
		t.Errorf("records %q, want %q", stmts, want)
	}
}
