package clientmatrix

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lib/pq"
)

// scenarioSQL are the statements of the scenario with $n parameters.
const (
	qSimple  = "SELECT id, name, id_no, mobile, salary FROM cm.people ORDER BY id"
	qParam   = "SELECT name, id_no, mobile FROM cm.people WHERE id = $1"
	qSearch  = "SELECT id FROM cm.people WHERE id_no = $1"
	qGuess   = "SELECT count(*) FROM cm.people WHERE id_no = $1"
	qInsert  = "INSERT INTO cm.notes (client, body) VALUES ($1, 'in a transaction')"
	qCount   = "SELECT count(*) FROM cm.notes WHERE client = $1"
	qCopyOut = "COPY (SELECT id, name, id_no FROM cm.people ORDER BY id) TO STDOUT"
	qRefused = "SELECT id FROM cm.people WHERE mobile LIKE '138%'"
)

// printer collects scenario lines.
type printer struct{ lines []string }

func (p *printer) add(step string, fields ...string) {
	p.lines = append(p.lines, step+":"+strings.Join(fields, "|"))
}

// copyLines adds one copy_out line per COPY text row.
func (p *printer) copyLines(data []byte) {
	for _, l := range lines(string(data)) {
		p.add("copy_out", strings.ReplaceAll(l, "\t", "|"))
	}
}

// pgxScenario runs the scenario with pgx: the simple protocol for the
// unparameterised query, prepared statements (the default cache) for the
// others, text and binary results, a binary COPY FROM.
func pgxScenario(ctx context.Context, url, client string) ([]string, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	var p printer

	rows, err := conn.Query(ctx, qSimple, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var f []string
		for _, v := range rows.RawValues() {
			if v == nil {
				f = append(f, "NULL")
			} else {
				f = append(f, string(v))
			}
		}
		p.add("simple", f...)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	var name, idNo, mobile string
	if err := conn.QueryRow(ctx, qParam, 2).Scan(&name, &idNo, &mobile); err != nil {
		return nil, err
	}
	p.add("param", name, idNo, mobile)
	var id int32
	if err := conn.QueryRow(ctx, qSearch, idNo).Scan(&id); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	p.add("search", fmt.Sprint(id))
	var n int64
	if err := conn.QueryRow(ctx, qGuess, realIDs[1]).Scan(&n); err != nil {
		return nil, err
	}
	p.add("guess", fmt.Sprint(n))

	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, qInsert, client); err != nil {
		return nil, err
	}
	if err := tx.QueryRow(ctx, qCount, client).Scan(&n); err != nil {
		return nil, err
	}
	p.add("tx", fmt.Sprint(n))
	if err := tx.Rollback(ctx); err != nil {
		return nil, err
	}
	if err := conn.QueryRow(ctx, qCount, client).Scan(&n); err != nil {
		return nil, err
	}
	p.add("tx", fmt.Sprint(n))

	var buf bytes.Buffer
	if _, err := conn.PgConn().CopyTo(ctx, &buf, qCopyOut); err != nil {
		return nil, err
	}
	p.copyLines(buf.Bytes())
	src := pgx.CopyFromRows([][]any{{client, "copied one"}, {client, "copied two"}})
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"cm", "notes"}, []string{"client", "body"}, src); err != nil {
		return nil, err
	}
	if err := conn.QueryRow(ctx, qCount, client).Scan(&n); err != nil {
		return nil, err
	}
	p.add("copy_in", fmt.Sprint(n))

	var ids []string
	rows, _ = conn.Query(ctx, qRefused)
	for rows.Next() {
		var id int32
		rows.Scan(&id)
		ids = append(ids, fmt.Sprint(id))
	}
	var pgErr *pgconn.PgError
	switch err := rows.Err(); {
	case errors.As(err, &pgErr):
		p.add("refused", "ERROR "+pgErr.Code)
	case err != nil:
		return nil, err
	default:
		p.add("refused", ids...)
	}
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
		return nil, err
	}
	p.add("after", fmt.Sprint(n))
	return p.lines, nil
}

// libpqScenario runs the scenario with lib/pq through database/sql:
// unparameterised queries go as simple Query messages, db.Prepare makes a
// named statement, COPY FROM through pq.CopyInSchema. lib/pq cannot COPY
// TO STDOUT.
func libpqScenario(ctx context.Context, dsn, client string) ([]string, error) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var p printer

	rows, err := db.QueryContext(ctx, qSimple)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var f [5]sql.NullString
		if err := rows.Scan(&f[0], &f[1], &f[2], &f[3], &f[4]); err != nil {
			return nil, err
		}
		var s []string
		for _, v := range f {
			if v.Valid {
				s = append(s, v.String)
			} else {
				s = append(s, "NULL")
			}
		}
		p.add("simple", s...)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	stmt, err := db.PrepareContext(ctx, qParam)
	if err != nil {
		return nil, err
	}
	var name, idNo, mobile string
	if err := stmt.QueryRowContext(ctx, 2).Scan(&name, &idNo, &mobile); err != nil {
		return nil, err
	}
	stmt.Close()
	p.add("param", name, idNo, mobile)
	var id, n int64
	if err := db.QueryRowContext(ctx, qSearch, idNo).Scan(&id); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	p.add("search", fmt.Sprint(id))
	if err := db.QueryRowContext(ctx, qGuess, realIDs[1]).Scan(&n); err != nil {
		return nil, err
	}
	p.add("guess", fmt.Sprint(n))

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, qInsert, client); err != nil {
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, qCount, client).Scan(&n); err != nil {
		return nil, err
	}
	p.add("tx", fmt.Sprint(n))
	if err := tx.Rollback(); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, qCount, client).Scan(&n); err != nil {
		return nil, err
	}
	p.add("tx", fmt.Sprint(n))

	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	cp, err := tx.PrepareContext(ctx, pq.CopyInSchema("cm", "notes", "client", "body"))
	if err != nil {
		return nil, err
	}
	for _, body := range []string{"copied one", "copied two"} {
		if _, err := cp.ExecContext(ctx, client, body); err != nil {
			return nil, err
		}
	}
	if _, err := cp.ExecContext(ctx); err != nil {
		return nil, err
	}
	cp.Close()
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, qCount, client).Scan(&n); err != nil {
		return nil, err
	}
	p.add("copy_in", fmt.Sprint(n))

	var ids []string
	rows, err = db.QueryContext(ctx, qRefused)
	if err == nil {
		for rows.Next() {
			rows.Scan(&id)
			ids = append(ids, fmt.Sprint(id))
		}
		err = rows.Err()
	}
	var pqErr *pq.Error
	switch {
	case errors.As(err, &pqErr):
		p.add("refused", "ERROR "+string(pqErr.Code))
	case err != nil:
		return nil, err
	default:
		p.add("refused", ids...)
	}
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
		return nil, err
	}
	p.add("after", fmt.Sprint(n))
	return p.lines, nil
}
