package proxy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestCancel cancels a query through the proxy with pgx's CancelRequest
// and checks that cancel requests with a wrong key cancel nothing.
func TestCancel(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)

	t.Run("pgx_context", func(t *testing.T) {
		testCancel(t, p.dsn("postgres", "", "postgres"))
	})

	t.Run("raw_cancel_request", func(t *testing.T) {
		app := uniqueName("rawcancel")
		conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres", "application_name="+app))
		admin := directConn(t)
		ctx := pgtest.Context(t)
		pid, secret := conn.PgConn().PID(), conn.PgConn().SecretKey()
		var backendPID uint32
		if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backendPID); err != nil {
			t.Fatal(err)
		}
		if pid == backendPID {
			t.Fatalf("the client sees PostgreSQL's own backend pid %d; the proxy must issue its own key", pid)
		}
		wrong := bytes.Clone(secret)
		wrong[0] ^= 0xff
		keys := []struct {
			name   string
			pid    uint32
			secret []byte
		}{
			{"wrong secret", pid, wrong},
			{"short secret", pid, secret[:3]},
			{"unknown pid", pid + 1, secret},
			{"upstream pid", backendPID, secret},
		}
		// One long statement runs while every bad cancel request is
		// handled; none of them may end it. (A short statement per key
		// raced the activity poll on a starved machine.)
		errc := make(chan error, 1)
		go func() {
			_, err := conn.Exec(ctx, "SELECT pg_sleep(60)")
			errc <- err
		}()
		waitActive(t, admin, app, "pg_sleep")
		for _, k := range keys {
			sendCancel(t, p.addr, k.pid, k.secret)
		}
		// A forwarded cancel acts within milliseconds; give a wrongly
		// forwarded one time to show.
		select {
		case err := <-errc:
			t.Fatalf("a bad cancel key ended the statement: %v", err)
		case <-time.After(time.Second):
		}
		waitActive(t, admin, app, "pg_sleep")
		// The right key, sent the same way, does cancel: the raw requests
		// above were well-formed.
		sendCancel(t, p.addr, pid, secret)
		select {
		case err := <-errc:
			wantCode(t, err, "57014")
		case <-time.After(25 * time.Second):
			t.Fatal("the right key did not cancel the query")
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
			t.Fatal(err)
		}
	})
}

// sendCancel sends a CancelRequest to addr and waits until the receiver
// closes the connection, as it does once the request is handled.
func sendCancel(t *testing.T, addr string, pid uint32, secret []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf, err := (&pgproto3.CancelRequest{ProcessID: pid, SecretKey: secret}).Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(buf); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	back, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("cancel connection: %v", err)
	}
	// Nothing comes back, except an ErrorResponse for a malformed request.
	if len(back) > 0 && back[0] != 'E' {
		t.Fatalf("cancel connection: got %q", back)
	}
}

// testCancel cancels a running pg_sleep through the connection's own
// CancelRequest and checks 57014 and that the session stays usable.
func testCancel(t *testing.T, dsn string) {
	t.Helper()
	app := uniqueName("cancel")
	conn := connectCfg(t, dsn, func(c *pgx.ConnConfig) {
		c.RuntimeParams["application_name"] = app
		c.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 20 * time.Second}
		}
	})
	admin := directConn(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "SELECT pg_sleep(30)")
		errc <- err
	}()
	waitActive(t, admin, app, "pg_sleep")
	cancel()
	var err error
	select {
	case err = <-errc:
	case <-time.After(25 * time.Second):
		t.Fatal("the query was not cancelled")
	}
	wantCode(t, err, "57014")
	if pe := pgErr(t, err); pe.Message != "canceling statement due to user request" {
		t.Fatalf("message %q", pe.Message)
	}
	var n int
	if err := conn.QueryRow(pgtest.Context(t), "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after the cancel: %d, %v", n, err)
	}
	states := activityStates(t, admin, app)
	if len(states) != 1 || !strings.HasPrefix(states[0], "idle:") {
		t.Fatalf("backend after the cancel: %q, want idle", states)
	}
}
