package proxy_test

import (
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/lib/pq"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestLibPQ drives the proxy with lib/pq through database/sql, logging in
// with SCRAM: parameters, a transaction, a reused named prepared
// statement, an error followed by a good query on the same connection, and
// COPY FROM STDIN with pq.CopyIn.
func TestLibPQ(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)
	user, password := createRole(t, pgcluster.AuthSCRAM)
	db, err := sql.Open("postgres", p.dsn(user, password, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := pgtest.Context(t)
	// One connection for everything, so "the same connection" holds.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	var who string
	var sum int64
	var greeting string
	if err := conn.QueryRowContext(ctx, "SELECT current_user, $1::int8 + $2::int8, $3::text || '!'", 40, 2, "héllo").
		Scan(&who, &sum, &greeting); err != nil {
		t.Fatal(err)
	}
	if who != user || sum != 42 || greeting != "héllo!" {
		t.Fatalf("got %q %d %q", who, sum, greeting)
	}

	table := uniqueName("pq")
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE "+table+" (id int PRIMARY KEY, name text)"); err != nil {
		t.Fatal(err)
	}

	t.Run("transaction", func(t *testing.T) {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" VALUES ($1, $2)", 1, "one"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tx, err = conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" VALUES ($1, $2)", 2, "two"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 1 {
			t.Fatalf("after commit and rollback: %d rows, %v", n, err)
		}
	})

	t.Run("prepared", func(t *testing.T) {
		const q = "SELECT $1::int * 3"
		stmt, err := conn.PrepareContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer stmt.Close()
		var names int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1 AND name <> ''", q).Scan(&names); err != nil {
			t.Fatal(err)
		}
		if names != 1 {
			t.Fatalf("%d named prepared statements for %q, want 1", names, q)
		}
		for i := range 10 {
			var n int
			if err := stmt.QueryRowContext(ctx, i).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 3*i {
				t.Fatalf("%d * 3 = %d", i, n)
			}
		}
	})

	t.Run("error_then_good", func(t *testing.T) {
		_, err := conn.ExecContext(ctx, "SELEC 1")
		var pe *pq.Error
		if !errors.As(err, &pe) || pe.Code != "42601" {
			t.Fatalf("want syntax error 42601, got %v", err)
		}
		_, err = conn.ExecContext(ctx, "INSERT INTO "+table+" VALUES ($1, $2)", 1, "dup")
		if !errors.As(err, &pe) || pe.Code != "23505" {
			t.Fatalf("want unique violation 23505, got %v", err)
		}
		var s string
		if err := conn.QueryRowContext(ctx, "SELECT 'still fine'").Scan(&s); err != nil || s != "still fine" {
			t.Fatalf("after errors: %q, %v", s, err)
		}
	})

	t.Run("copy_in", func(t *testing.T) {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		stmt, err := tx.Prepare(pq.CopyIn(table, "id", "name"))
		if err != nil {
			t.Fatal(err)
		}
		for i := 100; i < 1100; i++ {
			var name any = fmt.Sprintf("row\t%d\\", i)
			if i%10 == 0 {
				name = nil
			}
			if _, err := stmt.Exec(i, name); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := stmt.Exec(); err != nil {
			t.Fatal(err)
		}
		if err := stmt.Close(); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var n, nulls int
		var name string
		if err := conn.QueryRowContext(ctx, "SELECT count(*), count(*) FILTER (WHERE name IS NULL), max(name) FILTER (WHERE id = 101) FROM "+table+" WHERE id >= 100").
			Scan(&n, &nulls, &name); err != nil {
			t.Fatal(err)
		}
		if n != 1000 || nulls != 100 || name != "row\t101\\" {
			t.Fatalf("after CopyIn: %d rows, %d NULLs, row 101 %q", n, nulls, name)
		}
	})
}
