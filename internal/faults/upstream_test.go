package faults

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestUpstreamRestart: PostgreSQL restarted (fast shutdown) in the middle
// of a query, of a COPY FROM STDIN and of a COPY TO STDOUT. Each client
// gets an error — PostgreSQL's own 57P01 when it said goodbye, else
// pgmantle's 08006 — and its session ends; the COPY FROM leaves no row;
// pgmantle keeps running and new sessions work as soon as PostgreSQL is
// back, without restarting pgmantle.
func TestUpstreamRestart(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	if err := c.Exec(ctx, "CREATE TABLE IF NOT EXISTS copied (id int, body text)"); err != nil {
		t.Fatal(err)
	}
	p := startPgmantle(t, "")

	type outcome struct {
		name string
		err  error
	}
	results := make(chan outcome, 3)

	// A long query.
	qconn, err := pgx.Connect(ctx, url(p, "postgres", "", "restart-query"))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := qconn.Exec(context.Background(), "SELECT pg_sleep(60)")
		results <- outcome{"query", err}
	}()

	// A COPY FROM STDIN that is still sending rows.
	inconn, err := pgx.Connect(ctx, url(p, "postgres", "", "restart-copyin"))
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan struct{})
	go func() {
		n := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			n++
			if n == 2000 {
				close(sent)
			}
			if n > 2000 {
				time.Sleep(time.Millisecond) // a slow producer: the COPY is open when PostgreSQL goes
			}
			if n > 200000 {
				return nil, nil
			}
			return []any{int32(n), "row"}, nil
		})
		_, err := inconn.CopyFrom(context.Background(), pgx.Identifier{"copied"}, []string{"id", "body"}, src)
		results <- outcome{"copy from", err}
	}()

	// A COPY TO STDOUT read slowly.
	outconn, err := pgx.Connect(ctx, url(p, "postgres", "", "restart-copyout"))
	if err != nil {
		t.Fatal(err)
	}
	reading, restarted := make(chan struct{}), make(chan struct{})
	go func() {
		w := &slowWriter{started: reading, fast: restarted}
		_, err := outconn.PgConn().CopyTo(context.Background(), w, "COPY (SELECT generate_series(1, 5000000) AS g, repeat('x', 100)) TO STDOUT")
		results <- outcome{"copy to", err}
	}()

	<-sent
	<-reading
	waitFor(t, 10*time.Second, "the query to run", func() bool { return backends(t, "restart-query") == 1 })
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	close(restarted)
	for range 3 {
		select {
		case r := <-results:
			var pe *pgconn.PgError
			switch {
			case r.err == nil:
				t.Errorf("%s: completed across a PostgreSQL restart", r.name)
			case errors.As(r.err, &pe) && (pe.Code == "57P01" || pe.Code == "08006"):
				t.Logf("%s: %s %s", r.name, pe.Code, pe.Message)
			default:
				t.Errorf("%s: %v; want an ErrorResponse 57P01 (PostgreSQL's) or 08006 (pgmantle's)", r.name, r.err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("a client got no answer after the restart")
		}
	}
	for _, conn := range []*pgx.Conn{qconn, inconn, outconn} {
		if err := conn.Ping(ctx); err == nil {
			t.Error("a session survived the restart of its server process")
		}
	}
	if !p.Running() {
		t.Fatalf("pgmantle exited:\n%s", p.Log())
	}
	if err := selectOne(ctx, p, "restart-after"); err != nil {
		t.Fatalf("a new session after the restart: %v", err)
	}
	var n int
	conn := pgtest.Connect(t, c.DSN("postgres", "", "postgres"))
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM copied").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the interrupted COPY FROM left %d rows (%v)", n, err)
	}
}

// slowWriter accepts COPY data slowly until fast is closed (what was in
// flight is then drained quickly), closing started at the first write.
type slowWriter struct {
	started, fast chan struct{}
	n             int
}

func (w *slowWriter) Write(b []byte) (int, error) {
	if w.n == 0 {
		close(w.started)
	}
	w.n++
	select {
	case <-w.fast:
	default:
		time.Sleep(100 * time.Microsecond)
	}
	return len(b), nil
}
