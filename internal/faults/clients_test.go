package faults

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestClientsVanish: clients whose connection drops without a Terminate —
// in the middle of a large result, in the middle of a COPY FROM, and
// inside a transaction holding a lock — lose their server session too:
// pgmantle closes the upstream connection, PostgreSQL ends the backend
// (and the transaction, releasing its lock), and pgmantle serves on.
func TestClientsVanish(t *testing.T) {
	ctx := pgtest.Context(t)
	c := pgtest.Cluster(t)
	if err := c.Exec(ctx, "CREATE TABLE IF NOT EXISTS vanish_locked (id int); CREATE TABLE IF NOT EXISTS vanish_copy (id int)"); err != nil {
		t.Fatal(err)
	}
	p := startPgmantle(t, "")
	const app = "vanishing"
	connect := func() *pgx.Conn {
		conn, err := pgx.Connect(ctx, url(p, "postgres", "", app))
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	vanish := func(conn *pgx.Conn) { conn.PgConn().Conn().Close() }

	// Mid-result: a few rows of a huge result read, then gone.
	for range 5 {
		conn := connect()
		rr := conn.PgConn().Exec(ctx, "SELECT generate_series(1, 100000000) AS g, repeat('x', 500)") // streams: no tuplestore
		if !rr.NextResult() {
			t.Fatal(rr.Close())
		}
		res := rr.ResultReader()
		for i := 0; i < 100 && res.NextRow(); i++ {
		}
		vanish(conn)
	}
	// Mid-COPY FROM: the COPY started, data sent, no CopyDone.
	conn := connect()
	go conn.PgConn().CopyFrom(ctx, endless{}, "COPY vanish_copy FROM STDIN")
	waitFor(t, 10*time.Second, "the COPY to start", func() bool {
		var n int
		admin := pgtest.Connect(t, c.DSN("postgres", "", "postgres"))
		admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'COPY%'", app).Scan(&n)
		return n == 1
	})
	vanish(conn)
	// Inside a transaction holding a lock.
	conn = connect()
	if _, err := conn.Exec(ctx, "BEGIN; LOCK vanish_locked IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	vanish(conn)

	t0 := time.Now()
	defer func() { t.Logf("backends gone after %v", time.Since(t0)) }()
	waitFor(t, 20*time.Second, "the vanished clients' backends to end", func() bool { return backends(t, app) == 0 })
	admin := pgtest.Connect(t, c.DSN("postgres", "", "postgres"))
	if _, err := admin.Exec(ctx, "SET lock_timeout = '5s'; LOCK vanish_locked IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatalf("the vanished transaction's lock is still held: %v", err)
	}
	var rows int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM vanish_copy").Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("the vanished COPY left %d rows (%v)", rows, err)
	}
	if err := selectOne(ctx, p, "after-vanish"); err != nil {
		t.Fatalf("pgmantle after the clients vanished: %v", err)
	}
}

// endless is a COPY source that never ends.
type endless struct{}

func (endless) Read(b []byte) (int, error) {
	time.Sleep(time.Millisecond)
	n := copy(b, "1\n2\n3\n4\n")
	return n, nil
}

// TestThousandIdleSessions: a thousand sessions open at once through
// pgmantle, all idle, each still answering afterwards; pgmantle's resident
// memory per idle session is measured (the figure the benchmark reports),
// with a generous bound here to catch a regression; closing them all ends
// every server session.
func TestThousandIdleSessions(t *testing.T) {
	ctx := pgtest.Context(t)
	p := startPgmantle(t, "")
	const n, app = 1000, "idle-thousand"
	if err := selectOne(ctx, p, "idle-warmup"); err != nil {
		t.Fatal(err)
	}
	before, err := p.RSS()
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*pgconn.PgConn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				c, err := pgconn.Connect(ctx, url(p, "postgres", "", app))
				if err != nil {
					errs <- fmt.Errorf("session %d: %w", i, err)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	close(errs)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.Background())
			}
		}
	}()
	for err := range errs {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // let the sessions settle into idle
	after, err := p.RSS()
	if err != nil {
		t.Fatal(err)
	}
	per := (after - before) / n
	t.Logf("pgmantle RSS %d KB before, %d KB with %d idle sessions: %d bytes per session", before>>10, after>>10, n, per)
	if per > 256<<10 {
		t.Errorf("%d KB per idle session", per>>10)
	}
	if got := backends(t, app); got != n {
		t.Fatalf("%d server sessions for %d clients", got, n)
	}
	for i, c := range conns {
		if _, err := c.Exec(ctx, "SELECT 1").ReadAll(); err != nil {
			t.Fatalf("session %d after idling: %v", i, err)
		}
	}
	for i, c := range conns {
		c.Close(ctx)
		conns[i] = nil
	}
	waitFor(t, 30*time.Second, "every server session to end", func() bool { return backends(t, app) == 0 })
}
