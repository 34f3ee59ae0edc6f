package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/discover"
)

// discoverCmd samples every table of a database and proposes the
// classes: section of a policy, with the evidence as YAML comments.
func discoverCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("discover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("dsn", "", "`DSN` of the database to sample (PostgreSQL directly; required)")
	rows := fs.Int("rows", 1000, "rows to sample per table (`N`)")
	budget := fs.Duration("budget", 60*time.Second, "time `LIMIT` for the whole run; tables not reached are listed")
	out := fs.String("out", "", "write the proposal to `FILE` instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" || fs.NArg() > 0 || *rows <= 0 {
		fmt.Fprintln(stderr, "usage: pgmantle discover --dsn DSN [--rows N] [--budget 60s] [--out FILE]")
		return errUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), *budget)
	defer cancel()
	conn, err := pgx.Connect(ctx, *dsn)
	if err != nil {
		return fmt.Errorf("discover: %w", err)
	}
	defer conn.Close(context.Background())
	tables, err := listTables(ctx, conn)
	if err != nil {
		return fmt.Errorf("discover: list tables: %w", err)
	}
	var props []discover.Proposal
	examined := 0
	var skipped []string
	start := time.Now()
	for i, t := range tables {
		if ctx.Err() != nil {
			skipped = append(skipped, t.name)
			continue
		}
		fmt.Fprintf(stderr, "\r[%s] %d/%d %-50.50s", bar(i, len(tables)), i+1, len(tables), t.name)
		cols, err := sample(ctx, conn, t, *rows)
		if err != nil {
			if ctx.Err() != nil {
				skipped = append(skipped, t.name)
				continue
			}
			return fmt.Errorf("discover: sample %s: %w", t.name, err)
		}
		for _, c := range cols {
			examined++
			if f, ok := discover.Classify(c); ok {
				props = append(props, discover.Proposal{Table: t.name, Column: c.Name, Finding: f})
			}
		}
	}
	fmt.Fprintf(stderr, "\r[%s] %d tables, %d columns, %d proposed, %.1fs%30s\n", bar(1, 1), len(tables), examined, len(props),
		time.Since(start).Seconds(), "")
	header := fmt.Sprintf("pgmantle discover: %d tables sampled (up to %d rows each) on %s", len(tables)-len(skipped), *rows,
		time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	for _, s := range skipped {
		header += "\nnot sampled (time budget reached): " + s
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return discover.WriteClasses(w, props, header, examined)
}

func bar(done, total int) string {
	const width = 20
	n := 0
	if total > 0 {
		n = done * width / total
	}
	return fmt.Sprintf("%-*s", width, string([]rune("####################")[:n]))
}

type table struct {
	name     string // schema.table, quoted where needed
	ident    pgx.Identifier
	reltuple float64
}

// listTables lists the user tables, partitioned tables and materialized
// views (partitions are sampled through their parent).
func listTables(ctx context.Context, conn *pgx.Conn) ([]table, error) {
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname, greatest(c.reltuples, 0)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		  AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
		ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []table
	for rows.Next() {
		var schema, name string
		var tuples float64
		if err := rows.Scan(&schema, &name, &tuples); err != nil {
			return nil, err
		}
		out = append(out, table{name: schema + "." + name, ident: pgx.Identifier{schema, name}, reltuple: tuples})
	}
	return out, rows.Err()
}

// sample reads up to n rows of a table, every column as text (a random
// sample of large tables with TABLESAMPLE, the first rows of small ones).
func sample(ctx context.Context, conn *pgx.Conn, t table, n int) ([]discover.Column, error) {
	rows, err := conn.Query(ctx, `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
		FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, t.ident.Sanitize())
	if err != nil {
		return nil, err
	}
	var cols []discover.Column
	for rows.Next() {
		var c discover.Column
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			rows.Close()
			return nil, err
		}
		c.Table = t.name
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(cols) == 0 {
		return cols, err
	}
	sel := ""
	for i, c := range cols {
		if i > 0 {
			sel += ", "
		}
		sel += pgx.Identifier{c.Name}.Sanitize() + "::text"
	}
	from := t.ident.Sanitize()
	if t.reltuple > float64(4*n) {
		from += fmt.Sprintf(" TABLESAMPLE SYSTEM (%.4f)", min(100, 400*float64(n)/t.reltuple))
	}
	data, err := conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s LIMIT %d", sel, from, n))
	if err != nil {
		return nil, err
	}
	defer data.Close()
	for data.Next() {
		vals := data.RawValues()
		for i, v := range vals {
			if v != nil && len(v) > 0 {
				cols[i].Values = append(cols[i].Values, string(v))
			}
		}
	}
	return cols, data.Err()
}
