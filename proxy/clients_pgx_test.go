package proxy_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/proxy"
)

// execModes are pgx's query execution modes: the simple protocol and the
// extended protocol with and without statement caching and Describe.
var execModes = []struct {
	name string
	mode pgx.QueryExecMode
}{
	{"simple", pgx.QueryExecModeSimpleProtocol},
	{"cache_statement", pgx.QueryExecModeCacheStatement},
	{"cache_describe", pgx.QueryExecModeCacheDescribe},
	{"describe_exec", pgx.QueryExecModeDescribeExec},
	{"exec", pgx.QueryExecModeExec},
}

// TestPgxTypes round-trips values of many types, in text and binary result
// formats, through the proxy in every pgx execution mode, including a
// 100 kB text and a 5 MB bytea (parameters and results larger than the
// proxy's 8 kB read buffer).
func TestPgxTypes(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)
	big := make([]byte, 5<<20)
	rand.Read(big)
	bigSum := md5.Sum(big)
	longText := strings.Repeat("pgmantle-", 100_000/9+1)[:100_000]
	ts := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)

	const query = `SELECT $1::int4, $2::int8, $3::numeric, $4::text, $5::bytea,
		$6::timestamptz, $7::int4[], $8::text[], NULL::int4, NULL::text,
		repeat('x', 100000), $9::bytea, length($9::bytea), md5($9::bytea), $10::text,
		ARRAY[1, NULL, 3]::int8[]`

	for _, m := range execModes {
		for _, format := range []string{"default", "text"} {
			if m.mode == pgx.QueryExecModeSimpleProtocol && format == "text" {
				continue // the simple protocol is always text
			}
			t.Run(m.name+"/"+format, func(t *testing.T) {
				conn := connectCfg(t, p.dsn("postgres", "", "postgres"), func(c *pgx.ConnConfig) {
					c.DefaultQueryExecMode = m.mode
				})
				ctx := pgtest.Context(t)
				args := []any{int32(-42), int64(1) << 40, "12345.678900", "héllo\tworld\n", []byte{0, 1, 0xfe, 0xff},
					ts, []int32{1, 2, 3}, []string{"a", "b,c", `"q"`, ""}, big, longText}
				if format == "text" {
					args = append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)
				}
				rows, err := conn.Query(ctx, query, args...)
				if err != nil {
					t.Fatal(err)
				}
				var (
					i4      int32
					i8      int64
					num     pgtype.Numeric
					txt     string
					ba      []byte
					tz      time.Time
					ia      []int32
					ta      []string
					n1      pgtype.Int4
					n2      pgtype.Text
					rep     string
					bigBack []byte
					bigLen  int32
					bigMD5  string
					long    string
					ia8     []pgtype.Int8
				)
				if !rows.Next() {
					t.Fatalf("no row: %v", rows.Err())
				}
				formats := map[int16]int{}
				for _, fd := range rows.FieldDescriptions() {
					formats[fd.Format]++
				}
				if err := rows.Scan(&i4, &i8, &num, &txt, &ba, &tz, &ia, &ta, &n1, &n2, &rep, &bigBack, &bigLen, &bigMD5, &long, &ia8); err != nil {
					t.Fatal(err)
				}
				if rows.Next() {
					t.Fatal("more than one row")
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				// Which wire format was used: text when asked for or with
				// the simple protocol; pgx picks binary for known types
				// when it has described the statement.
				switch {
				case format == "text" || m.mode == pgx.QueryExecModeSimpleProtocol:
					if formats[1] != 0 {
						t.Errorf("got %d binary columns, want all text", formats[1])
					}
				case m.mode != pgx.QueryExecModeExec:
					if formats[1] == 0 {
						t.Errorf("got no binary columns, want binary results")
					}
				}
				numStr, _ := num.Value()
				if i4 != -42 || i8 != 1<<40 || numStr != "12345.678900" || txt != "héllo\tworld\n" ||
					!bytes.Equal(ba, []byte{0, 1, 0xfe, 0xff}) || !tz.Equal(ts) ||
					fmt.Sprint(ia) != "[1 2 3]" || fmt.Sprintf("%q", ta) != `["a" "b,c" "\"q\"" ""]` {
					t.Errorf("values: %v %v %v %q %x %v %v %q", i4, i8, numStr, txt, ba, tz, ia, ta)
				}
				if n1.Valid || n2.Valid {
					t.Errorf("NULLs came back valid: %+v %+v", n1, n2)
				}
				if rep != strings.Repeat("x", 100000) {
					t.Errorf("repeat: got %d bytes", len(rep))
				}
				if !bytes.Equal(bigBack, big) || bigLen != int32(len(big)) || bigMD5 != hex.EncodeToString(bigSum[:]) {
					t.Errorf("5 MB bytea: got %d bytes back, server saw length %d md5 %s", len(bigBack), bigLen, bigMD5)
				}
				if long != longText {
					t.Errorf("100 kB text: got %d bytes", len(long))
				}
				if len(ia8) != 3 || !ia8[0].Valid || ia8[0].Int64 != 1 || ia8[1].Valid || ia8[2].Int64 != 3 {
					t.Errorf("int8[] with NULL: %+v", ia8)
				}
				// The session is still in sync after the large messages.
				var n int
				if err := conn.QueryRow(ctx, "SELECT 7").Scan(&n); err != nil || n != 7 {
					t.Fatalf("follow-up query: %d, %v", n, err)
				}
			})
		}
	}
}

// batchOutcome runs a batch whose second statement fails and reports, per
// statement, "ok" or the SQLSTATE, followed by the number of rows the batch
// left in the table and the result of a follow-up query.
func batchOutcome(t *testing.T, conn *pgx.Conn, table string) []string {
	t.Helper()
	ctx := pgtest.Context(t)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (a int)", table)); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	b.Queue(fmt.Sprintf("INSERT INTO %s VALUES (1)", table))
	b.Queue("SELECT 1 / $1::int", 0)
	b.Queue(fmt.Sprintf("INSERT INTO %s VALUES (2)", table))
	b.Queue("SELECT 'after'")
	br := conn.SendBatch(ctx, b)
	var out []string
	for range b.Len() {
		_, err := br.Exec()
		var pe *pgconn.PgError
		switch {
		case err == nil:
			out = append(out, "ok")
		case errors.As(err, &pe):
			out = append(out, pe.Code)
		default:
			out = append(out, "error")
		}
	}
	closeErr := br.Close()
	var pe *pgconn.PgError
	if closeErr != nil && !errors.As(closeErr, &pe) {
		t.Fatalf("batch close: %v", closeErr)
	}
	var n int
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s", table)).Scan(&n); err != nil {
		t.Fatalf("connection unusable after the failed batch: %v", err)
	}
	out = append(out, fmt.Sprintf("rows=%d", n))
	var s string
	if err := conn.QueryRow(ctx, "SELECT 'alive'").Scan(&s); err != nil {
		t.Fatal(err)
	}
	return append(out, s)
}

// TestPgxBatch pipelines a batch with a failing statement in the middle in
// each execution mode: the error surfaces for that statement, the rest is
// skipped (and the implicit transaction rolled back) exactly as PostgreSQL
// does it directly, and the connection stays usable.
func TestPgxBatch(t *testing.T) {
	t.Parallel()
	for _, v := range proxyVariants {
		t.Run(v.name, func(t *testing.T) { pgxBatch(t, v.configure) })
	}
}

func pgxBatch(t *testing.T, configure func(*proxy.Server)) {
	p := startProxy(t, configure)
	c := pgtest.Cluster(t)
	for _, m := range execModes {
		t.Run(m.name, func(t *testing.T) {
			cfg := func(cc *pgx.ConnConfig) { cc.DefaultQueryExecMode = m.mode }
			direct := batchOutcome(t, connectCfg(t, c.DSN("postgres", "", "postgres"), cfg), uniqueName("batch"))
			proxied := batchOutcome(t, connectCfg(t, p.dsn("postgres", "", "postgres"), cfg), uniqueName("batch"))
			t.Logf("outcome %v", proxied)
			if fmt.Sprint(direct) != fmt.Sprint(proxied) {
				t.Errorf("through the proxy %v, directly %v", proxied, direct)
			}
			if proxied[0] != "ok" || proxied[1] != "22012" || proxied[2] == "ok" || proxied[3] == "ok" || proxied[4] != "rows=0" || proxied[5] != "alive" {
				t.Errorf("unexpected batch outcome %v", proxied)
			}
		})
	}
	// A successful pipelined batch returns every result in order.
	t.Run("success", func(t *testing.T) {
		conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres"))
		ctx := pgtest.Context(t)
		b := &pgx.Batch{}
		for i := range 50 {
			b.Queue("SELECT $1::int * 2, repeat('y', $1::int * 500)", i)
		}
		br := conn.SendBatch(ctx, b)
		for i := range 50 {
			var n int
			var s string
			if err := br.QueryRow().Scan(&n, &s); err != nil {
				t.Fatal(err)
			}
			if n != 2*i || len(s) != i*500 {
				t.Fatalf("result %d: %d, %d bytes", i, n, len(s))
			}
		}
		if err := br.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPgxPreparedStatements prepares a named statement, reuses it, and
// deallocates it; the server's pg_prepared_statements confirms each step.
func TestPgxPreparedStatements(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)
	conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres"))
	ctx := pgtest.Context(t)
	count := func() int {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'dbl'", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	sd, err := conn.Prepare(ctx, "dbl", "SELECT $1::int8 * 2, $2::text || '!'")
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.ParamOIDs) != 2 || len(sd.Fields) != 2 {
		t.Fatalf("description: %d params, %d fields", len(sd.ParamOIDs), len(sd.Fields))
	}
	if n := count(); n != 1 {
		t.Fatalf("pg_prepared_statements has %d rows for dbl, want 1", n)
	}
	for i := range 20 {
		var n int64
		var s string
		if err := conn.QueryRow(ctx, "dbl", i, "x").Scan(&n, &s); err != nil {
			t.Fatal(err)
		}
		if n != int64(2*i) || s != "x!" {
			t.Fatalf("execution %d: %d %q", i, n, s)
		}
	}
	// Executing it with the wrong parameter count is PostgreSQL's error.
	var n int64
	err = conn.QueryRow(ctx, "dbl", "not-a-number", "x").Scan(&n)
	if err == nil {
		t.Fatal("bad parameter accepted")
	}
	if err := conn.Deallocate(ctx, "dbl"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("pg_prepared_statements has %d rows for dbl after Deallocate, want 0", n)
	}
	// The name can be prepared again with a different statement.
	if _, err := conn.Prepare(ctx, "dbl", "SELECT 'again'"); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := conn.QueryRow(ctx, "dbl").Scan(&s); err != nil || s != "again" {
		t.Fatalf("re-prepared: %q, %v", s, err)
	}
}

// TestPgxCursorAndTransactions fetches a cursor in chunks inside a
// transaction and checks commit, rollback and an aborted transaction.
func TestPgxCursorAndTransactions(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)
	conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres"))
	ctx := pgtest.Context(t)

	t.Run("cursor", func(t *testing.T) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "DECLARE c CURSOR FOR SELECT i, md5(i::text) FROM generate_series(1, 1050) i"); err != nil {
			t.Fatal(err)
		}
		next, chunks := 1, 0
		for {
			rows, err := tx.Query(ctx, "FETCH 100 FROM c")
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for rows.Next() {
				var i int
				var h string
				if err := rows.Scan(&i, &h); err != nil {
					t.Fatal(err)
				}
				if i != next {
					t.Fatalf("row %d, want %d", i, next)
				}
				next++
				got++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if rows.CommandTag().String() != fmt.Sprintf("FETCH %d", got) {
				t.Fatalf("command tag %q after %d rows", rows.CommandTag(), got)
			}
			if got == 0 {
				break
			}
			chunks++
		}
		if next != 1051 || chunks != 11 {
			t.Fatalf("fetched up to %d in %d chunks", next-1, chunks)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("commit_rollback", func(t *testing.T) {
		table := uniqueName("tx")
		if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" (a int)"); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO "+table+" VALUES (1), (2)")
			return err
		})
		if err != nil || count() != 2 {
			t.Fatalf("commit: %v, %d rows", err, count())
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+table+" VALUES (3)"); err != nil {
			t.Fatal(err)
		}
		if conn.PgConn().TxStatus() != 'T' {
			t.Fatalf("tx status %c in a transaction", conn.PgConn().TxStatus())
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if count() != 2 {
			t.Fatalf("rollback kept the row: %d rows", count())
		}
		// An error aborts the transaction: 25P02 until ROLLBACK.
		tx, err = conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, "INSERT INTO "+table+" VALUES ('x')")
		wantCode(t, err, "22P02")
		if conn.PgConn().TxStatus() != 'E' {
			t.Fatalf("tx status %c after an error, want E", conn.PgConn().TxStatus())
		}
		_, err = tx.Exec(ctx, "SELECT 1")
		wantCode(t, err, "25P02")
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if conn.PgConn().TxStatus() != 'I' || count() != 2 {
			t.Fatalf("after rollback: status %c, %d rows", conn.PgConn().TxStatus(), count())
		}
	})
}

// TestPgxAsyncMessages checks messages PostgreSQL sends besides results:
// LISTEN/NOTIFY notifications (also while the listener is idle),
// NoticeResponse and ParameterStatus.
func TestPgxAsyncMessages(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)

	t.Run("notify", func(t *testing.T) {
		ctx := pgtest.Context(t)
		listener := pgtest.Connect(t, p.dsn("postgres", "", "postgres"))
		notifier := pgtest.Connect(t, p.dsn("postgres", "", "postgres"))
		channel := uniqueName("chan")
		if _, err := listener.Exec(ctx, "LISTEN "+channel); err != nil {
			t.Fatal(err)
		}
		var notifierPID uint32
		if err := notifier.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&notifierPID); err != nil {
			t.Fatal(err)
		}
		// The listener is blocked reading when the notification arrives:
		// the proxy must relay it without waiting for more input.
		got := make(chan *pgconn.Notification, 1)
		errc := make(chan error, 1)
		go func() {
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			n, err := listener.WaitForNotification(wctx)
			if err != nil {
				errc <- err
				return
			}
			got <- n
		}()
		if _, err := notifier.Exec(ctx, "SELECT pg_notify($1, $2)", channel, "payload ☃"); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-got:
			if n.Channel != channel || n.Payload != "payload ☃" || n.PID != notifierPID {
				t.Fatalf("notification %+v, want channel %s from pid %d", n, channel, notifierPID)
			}
		case err := <-errc:
			t.Fatalf("WaitForNotification: %v", err)
		}
		// A notification committed in a transaction arrives at commit, and
		// one pending while the listener runs a query is delivered too.
		tx, err := notifier.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "NOTIFY "+channel+", 'in-tx'"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		n, err := listener.WaitForNotification(wctx)
		if err != nil || n.Payload != "in-tx" {
			t.Fatalf("notification %+v, %v", n, err)
		}
	})

	t.Run("notice", func(t *testing.T) {
		var mu sync.Mutex
		var notices []*pgconn.Notice
		conn := connectCfg(t, p.dsn("postgres", "", "postgres"), func(c *pgx.ConnConfig) {
			c.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
				mu.Lock()
				notices = append(notices, n)
				mu.Unlock()
			}
		})
		ctx := pgtest.Context(t)
		if _, err := conn.Exec(ctx, `DO $$BEGIN
			RAISE NOTICE 'hello %', 42;
			RAISE WARNING 'careful' USING DETAIL = 'some detail', HINT = 'a hint';
		END$$`); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(notices) != 2 {
			t.Fatalf("got %d notices, want 2", len(notices))
		}
		if n := notices[0]; n.Severity != "NOTICE" || n.Message != "hello 42" || n.Code != "00000" {
			t.Errorf("notice %+v", n)
		}
		if n := notices[1]; n.Severity != "WARNING" || n.Message != "careful" || n.Detail != "some detail" || n.Hint != "a hint" || n.Code != "01000" {
			t.Errorf("warning %+v", n)
		}
	})

	t.Run("parameter_status", func(t *testing.T) {
		conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres", "application_name=initial"))
		ctx := pgtest.Context(t)
		pc := conn.PgConn()
		if got := pc.ParameterStatus("application_name"); got != "initial" {
			t.Fatalf("application_name at startup %q", got)
		}
		if pc.ParameterStatus("server_version") == "" || pc.ParameterStatus("client_encoding") != "UTF8" {
			t.Fatalf("startup parameters missing: server_version %q client_encoding %q",
				pc.ParameterStatus("server_version"), pc.ParameterStatus("client_encoding"))
		}
		if _, err := conn.Exec(ctx, "SET application_name = 'changed-by-set'"); err != nil {
			t.Fatal(err)
		}
		if got := pc.ParameterStatus("application_name"); got != "changed-by-set" {
			t.Fatalf("application_name after SET %q", got)
		}
		if _, err := conn.Exec(ctx, "SET TimeZone = 'Asia/Tokyo'"); err != nil {
			t.Fatal(err)
		}
		if got := pc.ParameterStatus("TimeZone"); got != "Asia/Tokyo" {
			t.Fatalf("TimeZone after SET %q", got)
		}
	})
}

// TestPgxCopy runs COPY FROM STDIN (pgx CopyFrom, binary COPY, and text
// through PgConn.CopyFrom, including a failing COPY) and COPY TO STDOUT.
func TestPgxCopy(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)
	conn := pgtest.Connect(t, p.dsn("postgres", "", "postgres"))
	ctx := pgtest.Context(t)
	table := uniqueName("copy")
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" (id int, name text, data bytea, at timestamptz)"); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 20000
	rows := make([][]any, n)
	for i := range rows {
		var name any = fmt.Sprintf("name\t%d\n", i)
		if i%7 == 0 {
			name = nil
		}
		rows[i] = []any{int32(i), name, []byte{byte(i), byte(i >> 8)}, base.Add(time.Duration(i) * time.Second)}
	}
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{table}, []string{"id", "name", "data", "at"}, pgx.CopyFromRows(rows))
	if err != nil || copied != n {
		t.Fatalf("CopyFrom: %d rows, %v", copied, err)
	}
	var cnt, nulls int
	var sum int64
	if err := conn.QueryRow(ctx, "SELECT count(*), sum(id), count(*) FILTER (WHERE name IS NULL) FROM "+table).Scan(&cnt, &sum, &nulls); err != nil {
		t.Fatal(err)
	}
	if cnt != n || sum != int64(n*(n-1)/2) || nulls != (n+6)/7 {
		t.Fatalf("after CopyFrom: count %d sum %d nulls %d", cnt, sum, nulls)
	}

	// COPY TO STDOUT matches what the server produces for the same query.
	var out bytes.Buffer
	tag, err := conn.PgConn().CopyTo(ctx, &out, "COPY (SELECT * FROM "+table+" ORDER BY id) TO STDOUT")
	if err != nil || tag.RowsAffected() != n {
		t.Fatalf("CopyTo: %v, %v", tag, err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("CopyTo: %d lines", len(lines))
	}
	if lines[0] != `0	\N	\\x0000	2020-01-01 00:00:00+00` || lines[1] != `1	name\t1\n	\\x0100	2020-01-01 00:00:01+00` {
		t.Fatalf("CopyTo lines: %q %q", lines[0], lines[1])
	}
	direct := directConn(t)
	var want bytes.Buffer
	if _, err := direct.PgConn().CopyTo(ctx, &want, "COPY (SELECT * FROM "+table+" ORDER BY id) TO STDOUT"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want.Bytes()) {
		t.Fatal("COPY TO output through the proxy differs from the direct output")
	}

	// Text COPY FROM STDIN of the same data into a second table, then a
	// failing COPY, after which the connection is still usable.
	table2 := uniqueName("copy")
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table2+" (LIKE "+table+")"); err != nil {
		t.Fatal(err)
	}
	tag, err = conn.PgConn().CopyFrom(ctx, bytes.NewReader(out.Bytes()), "COPY "+table2+" FROM STDIN")
	if err != nil || tag.RowsAffected() != n {
		t.Fatalf("CopyFrom text: %v, %v", tag, err)
	}
	var diff int
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM ((TABLE %s EXCEPT TABLE %s) UNION ALL (TABLE %s EXCEPT TABLE %s)) d",
		table, table2, table2, table)).Scan(&diff); err != nil || diff != 0 {
		t.Fatalf("tables differ in %d rows (%v)", diff, err)
	}
	_, err = conn.PgConn().CopyFrom(ctx, strings.NewReader("1\tok\t\\\\x00\t2020-01-01\nnot-a-number\tx\t\\\\x00\t2020-01-01\n"), "COPY "+table2+" FROM STDIN")
	wantCode(t, err, "22P02")
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table2).Scan(&cnt); err != nil || cnt != n {
		t.Fatalf("after the failed COPY: %d rows, %v", cnt, err)
	}
}

// pipelineOutcome runs a pgconn pipeline with three Syncs in flight and an
// error in the second segment, and describes every result.
func pipelineOutcome(t *testing.T, pc *pgconn.PgConn) []string {
	t.Helper()
	ctx := pgtest.Context(t)
	p := pc.StartPipeline(ctx)
	p.SendPrepare("ps", "SELECT $1::int * 10", nil)
	p.SendQueryPrepared("ps", [][]byte{[]byte("1")}, nil, nil)
	p.SendPipelineSync()
	p.SendQueryParams("SELECT 1 / $1::int", [][]byte{[]byte("0")}, nil, nil, nil)
	p.SendQueryParams("SELECT 'skipped'", nil, nil, nil, nil)
	p.SendPipelineSync()
	p.SendFlushRequest()
	p.SendQueryPrepared("ps", [][]byte{[]byte("5")}, nil, []int16{1})
	p.SendDeallocate("ps")
	p.SendPipelineSync()
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for syncs := 0; syncs < 3; {
		res, err := p.GetResults()
		var pe *pgconn.PgError
		switch {
		case errors.As(err, &pe):
			out = append(out, "error "+pe.Code)
			continue
		case err != nil:
			t.Fatalf("GetResults: %v", err)
		}
		switch r := res.(type) {
		case *pgconn.StatementDescription:
			out = append(out, fmt.Sprintf("prepared %s %v", r.Name, r.ParamOIDs))
		case *pgconn.ResultReader:
			rr := r.Read()
			if rr.Err != nil {
				if errors.As(rr.Err, &pe) {
					out = append(out, "result error "+pe.Code)
					continue
				}
				t.Fatalf("result: %v", rr.Err)
			}
			out = append(out, fmt.Sprintf("rows %q %s", rr.Rows, rr.CommandTag))
		case *pgconn.PipelineSync:
			out = append(out, "sync")
			syncs++
		case *pgconn.CloseComplete:
			out = append(out, "closed")
		case nil:
			t.Fatalf("pipeline ended after %v", out)
		default:
			out = append(out, fmt.Sprintf("%T", r))
		}
	}
	if err := p.Close(); err != nil {
		t.Fatalf("pipeline close: %v", err)
	}
	rr := pc.ExecParams(ctx, "SELECT 'usable'", nil, nil, nil, nil).Read()
	if rr.Err != nil {
		t.Fatal(rr.Err)
	}
	return append(out, string(rr.Rows[0][0]))
}

// TestPgxPipeline: several Syncs in flight, an error in the middle
// segment, a Flush request, and statement Close: the proxy returns exactly
// what PostgreSQL does directly.
func TestPgxPipeline(t *testing.T) {
	t.Parallel()
	c := pgtest.Cluster(t)
	direct := pipelineOutcome(t, pgtest.Connect(t, c.DSN("postgres", "", "postgres")).PgConn())
	for _, v := range proxyVariants {
		t.Run(v.name, func(t *testing.T) {
			p := startProxy(t, v.configure)
			proxied := pipelineOutcome(t, pgtest.Connect(t, p.dsn("postgres", "", "postgres")).PgConn())
			t.Logf("outcome %q", proxied)
			if fmt.Sprint(direct) != fmt.Sprint(proxied) {
				t.Fatalf("through the proxy %q, directly %q", proxied, direct)
			}
			want := []string{"prepared  [23]", `rows [["10"]] SELECT 1`, "sync", "error 22012", "sync", `rows [["\x00\x00\x002"]] SELECT 1`, "closed", "sync", "usable"}
			if fmt.Sprint(proxied) != fmt.Sprint(want) {
				t.Fatalf("outcome %q, want %q", proxied, want)
			}
		})
	}
}
