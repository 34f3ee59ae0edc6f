package proxy_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/proxy"
)

// tagger replaces every text-typed value in text format with the SQL of the
// statement the proxy tied its result set to, so a test can see that each
// result reached the right request.
type tagger struct{}

func (tagger) Result(rs *proxy.ResultSet) (proxy.RowRewriter, error) {
	if rs.Copy {
		return nil, errors.New("COPY not expected")
	}
	tr := &tagRows{tag: []byte("[" + rs.SQL + "]")}
	for i, f := range rs.Fields {
		if f.DataTypeOID == 25 && f.Format == 0 {
			tr.cols = append(tr.cols, i)
		}
	}
	return tr, nil
}

type tagRows struct {
	tag  []byte
	cols []int
}

func (t *tagRows) RewriteRow(values [][]byte) error {
	for _, i := range t.cols {
		if values[i] != nil {
			values[i] = t.tag
		}
	}
	return nil
}

// TestInterceptorCorrelatesResults checks that every result set of
// pipelined extended-protocol batches, prepared statements and
// multi-statement simple queries is tied to the request it answers, with
// the columns and format codes in effect — including Executes the client
// never described, for which the proxy injects its own Describe.
func TestInterceptorCorrelatesResults(t *testing.T) {
	p := startProxy(t, func(s *proxy.Server) {
		s.Intercept = func(*proxy.SessionInfo) (proxy.Interceptor, error) { return tagger{}, nil }
	})
	ctx := pgtest.Context(t)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres")+"&default_query_exec_mode="+execModeParam(mode))
			b := &pgx.Batch{}
			sqls := make([]string, 6)
			for i := range sqls {
				sqls[i] = fmt.Sprintf("SELECT 'v%d'::text AS t, $1::int AS n, 'w'::text AS u", i)
				b.Queue(sqls[i], i*10)
			}
			br := conn.SendBatch(ctx, b)
			for i, sql := range sqls {
				var t1, u string
				var n int
				if err := br.QueryRow().Scan(&t1, &n, &u); err != nil {
					t.Fatalf("query %d: %v", i, err)
				}
				if want := "[" + sql + "]"; t1 != want || u != want || n != i*10 {
					t.Fatalf("query %d: got (%q, %d, %q), want (%q, %d, %q)", i, t1, n, u, want, i*10, want)
				}
			}
			if err := br.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("simple multi-statement", func(t *testing.T) {
		conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres"))
		sql := "SELECT 'a'::text; SELECT 1; SELECT 'b'::text, 2"
		results, err := conn.PgConn().Exec(ctx, sql).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"[" + sql + "]", "1", "[" + sql + "]"}
		for i, w := range want {
			if got := string(results[i].Rows[0][0]); got != w {
				t.Fatalf("statement %d: got %q, want %q", i, got, w)
			}
		}
	})
}

func execModeParam(m pgx.QueryExecMode) string {
	switch m {
	case pgx.QueryExecModeDescribeExec:
		return "describe_exec"
	case pgx.QueryExecModeExec:
		return "exec"
	}
	return "cache_statement"
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// failing is an interceptor whose rewriter always fails.
type failing struct{}

func (failing) Result(*proxy.ResultSet) (proxy.RowRewriter, error) { return failingRows{}, nil }

type failingRows struct{}

func (failingRows) RewriteRow([][]byte) error { return errors.New("cannot mask 110101199003074519") }

// TestInterceptorFailureFailsClosed: when a rewriter fails, no row reaches
// the client, the client gets a generic error that does not echo the
// rewriter's error text, and the session ends.
func TestInterceptorFailureFailsClosed(t *testing.T) {
	var logs syncBuffer
	p := startProxy(t, func(s *proxy.Server) {
		s.Intercept = func(*proxy.SessionInfo) (proxy.Interceptor, error) { return failing{}, nil }
		s.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	defer func() {
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "session ended") && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if strings.Contains(logs.String(), "1101011990") {
			t.Errorf("the rewriter's error text reached the log:\n%s", logs.String())
		}
		if !strings.Contains(logs.String(), "session ended") {
			t.Errorf("the session's end was not logged:\n%s", logs.String())
		}
	}()
	conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres"))
	ctx := pgtest.Context(t)
	var s string
	err := conn.QueryRow(ctx, "SELECT 'secret value'::text").Scan(&s)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "XX000" {
		t.Fatalf("got %v (value %q), want an XX000 error", err, s)
	}
	if strings.Contains(pe.Message, "1101011990") {
		t.Fatalf("the rewriter's error text reached the client: %q", pe.Message)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("the session survived a failed rewrite")
	}
}

// TestInjectedDescribe: a client that executes without describing (as
// many drivers do for a statement they described once) still has its rows
// tied to their columns: the proxy sends its own Describe, and the client
// never sees the answer.
func TestInjectedDescribe(t *testing.T) {
	p := startProxy(t, func(s *proxy.Server) {
		s.Intercept = func(*proxy.SessionInfo) (proxy.Interceptor, error) { return tagger{}, nil }
	})
	c := dialRaw(t, p.addr)
	c.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "postgres", "database": "postgres"}})
	c.fe.Flush()
	c.readUntil(t, isReady)
	sql := "SELECT 'x'::text AS a, 7::int AS b"
	c.fe.SendParse(&pgproto3.Parse{Name: "s1", Query: sql})
	// Text for a, binary for b: the injected Describe must report them.
	c.fe.SendBind(&pgproto3.Bind{PreparedStatement: "s1", ResultFormatCodes: []int16{0, 1}})
	c.fe.SendExecute(&pgproto3.Execute{})
	c.fe.SendSync(&pgproto3.Sync{})
	c.fe.Flush()
	msgs := c.readUntil(t, isReady)
	var rows []*pgproto3.DataRow
	for _, m := range msgs {
		switch m := m.(type) {
		case *pgproto3.RowDescription, *pgproto3.NoData:
			t.Fatalf("the client received the answer to the injected Describe: %T", m)
		case *pgproto3.DataRow:
			rows = append(rows, m)
		case *pgproto3.ErrorResponse:
			t.Fatalf("error: %s", m.Message)
		}
	}
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	if got := string(rows[0].Values[0]); got != "["+sql+"]" {
		t.Fatalf("column a = %q, want it rewritten", got)
	}
	if got := rows[0].Values[1]; len(got) != 4 || got[3] != 7 {
		t.Fatalf("column b = %v, want binary int4 7", got)
	}
}

// scrubber is a test interceptor that relays rows unchanged and removes
// the Detail of errors and notices.
type scrubber struct{}

func (scrubber) Result(*proxy.ResultSet) (proxy.RowRewriter, error) { return nil, nil }
func (scrubber) ScrubError(e *pgproto3.ErrorResponse) {
	e.Detail = ""
	e.Message = strings.ReplaceAll(e.Message, "1101", "****")
}

// TestErrorScrubber: with an ErrorScrubber, errors and notices pass through
// it (a unique violation's "Key (...)=(...)" detail disappears) and keep
// their code; the session goes on normally.
func TestErrorScrubber(t *testing.T) {
	p := startProxy(t, func(s *proxy.Server) {
		s.Intercept = func(*proxy.SessionInfo) (proxy.Interceptor, error) { return scrubber{}, nil }
	})
	var notices []*pgconn.Notice
	cfg, err := pgx.ParseConfig(p.dsn("postgres", "", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n) }
	ctx := pgtest.Context(t)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TEMP TABLE u (id_no text PRIMARY KEY); INSERT INTO u VALUES ('110101199003074519')"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "INSERT INTO u VALUES ('110101199003074519')")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("got %v, want 23505", err)
	}
	if pe.Detail != "" {
		t.Fatalf("detail not scrubbed: %q", pe.Detail)
	}
	if _, err := conn.Exec(ctx, "DO $$BEGIN RAISE NOTICE 'id 110101199003074519' USING DETAIL = 'd'; END$$"); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || notices[0].Detail != "" || strings.Contains(notices[0].Message, "1101") {
		t.Fatalf("notice not scrubbed: %+v", notices)
	}
}

// TestOnSchemaChange: the hook runs once a transaction with DDL has ended,
// not for plain statements, and not before COMMIT.
func TestOnSchemaChange(t *testing.T) {
	calls := make(chan string, 10)
	p := startProxy(t, func(s *proxy.Server) {
		s.OnSchemaChange = func(info *proxy.SessionInfo) { calls <- info.Database }
	})
	conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres"))
	ctx := pgtest.Context(t)
	exec := func(sql string) {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("SELECT 1")
	exec("BEGIN")
	exec("CREATE TEMP TABLE ddl_probe (a int)")
	select {
	case <-calls:
		t.Fatal("hook ran before the transaction ended")
	default:
	}
	exec("COMMIT")
	select {
	case db := <-calls:
		if db != "postgres" {
			t.Fatalf("hook for database %q", db)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hook did not run after COMMIT")
	}
	exec("INSERT INTO ddl_probe VALUES (1)")
	exec("SELECT * FROM ddl_probe")
	select {
	case <-calls:
		t.Fatal("hook ran for plain statements")
	default:
	}
}
