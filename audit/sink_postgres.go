package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresSink writes records to a table of a PostgreSQL database, on a
// connection of its own, one COPY per batch in one transaction (a batch
// is in the table whole or not at all). Each row keeps the record's line
// exactly as written, so the chain verifies from the table
// (ExportPostgres), with a few fields copied into columns for queries.
type PostgresSink struct {
	dsn   string
	table pgx.Identifier
	mu    sync.Mutex
	conn  *pgx.Conn
	rows  [][]any
}

// auditTableName accepts "name" or "schema.name" of plain identifiers.
var auditTableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// OpenPostgresSink connects to dsn and creates the table if it does not
// exist.
func OpenPostgresSink(ctx context.Context, dsn, table string) (*PostgresSink, error) {
	if !auditTableName.MatchString(table) {
		return nil, fmt.Errorf("audit table %q: want name or schema.name", table)
	}
	s := &PostgresSink{dsn: dsn, table: pgx.Identifier(splitDot(table))}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	_, err := s.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+s.table.Sanitize()+` (
		seq bigint PRIMARY KEY,
		time timestamptz NOT NULL,
		type text NOT NULL,
		role text,
		decision text,
		line text NOT NULL)`)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("create audit table %s: %w", s.table.Sanitize(), err)
	}
	return s, nil
}

func splitDot(s string) []string {
	if i := bytes.IndexByte([]byte(s), '.'); i >= 0 {
		return []string{s[:i], s[i+1:]}
	}
	return []string{s}
}

// connect opens the sink's connection and takes the table's advisory
// lock, held for the connection's life: one writer per table, and
// ExportPostgres can tell a table that is being written.
func (s *PostgresSink) connect(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, s.dsn)
	if err != nil {
		return fmt.Errorf("audit database: %w", err)
	}
	var locked bool
	if err := conn.QueryRow(cctx, `SELECT pg_try_advisory_lock(hashtext($1))`, lockName(s.table)).Scan(&locked); err != nil {
		conn.Close(ctx)
		return fmt.Errorf("audit database: %w", err)
	}
	if !locked {
		conn.Close(ctx)
		return fmt.Errorf("audit table %s is being written by another pgmantle", s.table.Sanitize())
	}
	s.conn = conn
	return nil
}

func lockName(table pgx.Identifier) string { return "pgmantle_audit:" + table.Sanitize() }

// Recover implements Recoverer: the line of the record with the highest
// sequence number.
func (s *PostgresSink) Recover() ([]byte, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var line string
	err := s.conn.QueryRow(context.Background(), `SELECT line FROM `+s.table.Sanitize()+` ORDER BY seq DESC LIMIT 1`).Scan(&line)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read the audit table: %w", err)
	}
	return []byte(line), 0, nil
}

// Write copies whole records into the table in one transaction.
func (s *PostgresSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = s.rows[:0]
	for rest := p; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return 0, errors.New("audit: a record without its newline")
		}
		line := rest[:i]
		rest = rest[i+1:]
		var f struct {
			Seq      int64  `json:"seq"`
			Time     string `json:"time"`
			Type     string `json:"type"`
			Role     string `json:"role"`
			Decision string `json:"decision"`
		}
		if err := json.Unmarshal(line, &f); err != nil {
			return 0, fmt.Errorf("audit: %w", err)
		}
		t, _ := time.Parse(time.RFC3339Nano, f.Time)
		s.rows = append(s.rows, []any{f.Seq, t, f.Type, nullable(f.Role), nullable(f.Decision), string(line)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.conn == nil || s.conn.IsClosed() {
		if err := s.connect(ctx); err != nil {
			return 0, err
		}
	}
	err := pgx.BeginFunc(ctx, s.conn, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, s.table, []string{"seq", "time", "type", "role", "decision", "line"}, pgx.CopyFromRows(s.rows))
		return err
	})
	if err != nil {
		if s.conn != nil && !s.conn.IsClosed() && ctx.Err() != nil {
			s.conn.Close(context.Background())
		}
		return 0, fmt.Errorf("write the audit table: %w", err)
	}
	return len(p), nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Sync is a no-op: a committed COPY is as durable as the database makes
// it.
func (s *PostgresSink) Sync() error { return nil }

// Close closes the connection.
func (s *PostgresSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	return s.conn.Close(context.Background())
}

// ExportPostgres writes the lines of an audit table, in sequence order,
// to w (one per line), for Verify and BuildReport. live reports that a
// pgmantle holds the table's lock: it is being written.
func ExportPostgres(ctx context.Context, dsn, table string, w io.Writer) (live bool, err error) {
	if !auditTableName.MatchString(table) {
		return false, fmt.Errorf("audit table %q: want name or schema.name", table)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false, fmt.Errorf("audit database: %w", err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier(splitDot(table))
	var free bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, lockName(ident)).Scan(&free); err != nil {
		return false, fmt.Errorf("audit database: %w", err)
	}
	live = !free
	rows, err := conn.Query(ctx, `SELECT line FROM `+ident.Sanitize()+` ORDER BY seq`)
	if err != nil {
		return live, fmt.Errorf("read the audit table: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return live, err
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return live, err
		}
	}
	return live, rows.Err()
}
