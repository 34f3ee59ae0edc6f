package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	tables, err := listRelations(ctx, conn)
	if err != nil {
		return fmt.Errorf("discover: list tables: %w", err)
	}
	var props []discover.Proposal
	examined, sampled, matviews := 0, 0, 0
	var notes, skipped []string
	start := time.Now()
	for i, t := range tables {
		name := discover.Display(t.name)
		switch {
		case t.kind == 'm':
			notes = append(notes, "not sampled (materialized view; a policy classifies the tables it is made from): "+name)
			matviews++
			continue
		case t.unreadable != "":
			notes = append(notes, "not sampled ("+t.unreadable+"): "+name)
			continue
		case ctx.Err() != nil:
			skipped = append(skipped, name)
			continue
		}
		fmt.Fprintf(stderr, "\r[%s] %d/%d %-50.50s", bar(i, len(tables)), i+1, len(tables), name)
		cols, err := sample(ctx, conn, t, *rows)
		if err != nil {
			if ctx.Err() != nil {
				skipped = append(skipped, name)
			} else {
				// sample's errors carry the SQLSTATE, never the server's
				// message (which may quote a value).
				notes = append(notes, fmt.Sprintf("not sampled (%v): %s", err, name))
			}
			continue
		}
		sampled++
		if t.kind == 'f' {
			notes = append(notes, fmt.Sprintf("foreign table, its first %d rows read (no random sample): %s", *rows, name))
		}
		if t.rls {
			notes = append(notes, "row-level security: only the rows this role sees were sampled: "+name)
		}
		for _, c := range cols {
			examined++
			f, ok := discover.Classify(c)
			if !ok {
				continue
			}
			if !discover.Nameable(t.ident[0], t.ident[1], c.Name) {
				notes = append(notes, fmt.Sprintf("column %q of %q looks like %s but a policy cannot name it (a name holds '.' or '*'): %s",
					c.Name, t.name, f.Class, f.Evidence()))
				continue
			}
			props = append(props, discover.Proposal{Table: t.name, Column: c.Name, Finding: f})
		}
	}
	fmt.Fprintf(stderr, "\r[%s] %d tables, %d columns, %d proposed, %.1fs%30s\n", bar(1, 1), len(tables), examined, len(props),
		time.Since(start).Seconds(), "")
	if n := len(tables) - sampled; n > 0 {
		fmt.Fprintf(stderr, "discover: %d of %d tables not sampled; the proposal's header says which and why\n", n, len(tables))
	}
	header := fmt.Sprintf("pgmantle discover: %d of %d tables sampled (up to %d rows each) on %s", sampled, len(tables), *rows,
		time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	for _, n := range notes {
		header += "\n" + n
	}
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
	if err := discover.WriteClasses(w, props, header, examined); err != nil {
		return err
	}
	if len(tables)-sampled-matviews > 0 {
		// The proposal is written, and says which tables it lacks; a
		// script must not take it for complete.
		return errIncomplete
	}
	return nil
}

// errIncomplete: discover wrote a proposal that leaves out tables it
// could not sample (time budget, privileges, a failed sample); exit 3.
var errIncomplete = errors.New("the proposal is incomplete")

func bar(done, total int) string {
	const width = 20
	n := 0
	if total > 0 {
		n = done * width / total
	}
	return fmt.Sprintf("%-*s", width, string([]rune("####################")[:n]))
}

type table struct {
	name     string // schema.table, as stored (Display it in messages)
	ident    pgx.Identifier
	reltuple float64 // pg_class.reltuples (-1: never analysed)
	kind     byte    // pg_class.relkind: r, p, f or m
	// unreadable says why the role cannot sample the table ("" when it can).
	unreadable string
	rls        bool // row-level security filters what the role sees
}

// listRelations lists the user tables, partitioned tables, foreign tables
// and materialized views (partitions are sampled through their parent),
// those the role cannot read too, with the reason.
func listRelations(ctx context.Context, conn *pgx.Conn) ([]table, error) {
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname, c.reltuples, c.relkind::text,
		  CASE WHEN NOT pg_catalog.has_schema_privilege(n.oid, 'USAGE') THEN 'no USAGE privilege on its schema'
		       WHEN pg_catalog.has_table_privilege(c.oid, 'SELECT') THEN ''
		       WHEN pg_catalog.has_any_column_privilege(c.oid, 'SELECT') THEN 'SELECT privilege on some columns only'
		       ELSE 'no SELECT privilege' END,
		  c.relrowsecurity AND (c.relforcerowsecurity OR NOT pg_catalog.pg_has_role(c.relowner, 'USAGE'))
		    AND NOT (SELECT r.rolsuper OR r.rolbypassrls FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'f', 'm') AND NOT c.relispartition
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []table
	for rows.Next() {
		var t table
		var schema, name, kind string
		if err := rows.Scan(&schema, &name, &t.reltuple, &kind, &t.unreadable, &t.rls); err != nil {
			return nil, err
		}
		t.name, t.ident, t.kind = schema+"."+name, pgx.Identifier{schema, name}, kind[0]
		out = append(out, t)
	}
	return out, rows.Err()
}

// listTables lists the relations a policy classifies (listRelations
// without materialized views), for policy check.
func listTables(ctx context.Context, conn *pgx.Conn) ([]table, error) {
	all, err := listRelations(ctx, conn)
	out := all[:0]
	for _, t := range all {
		if t.kind != 'm' {
			out = append(out, t)
		}
	}
	return out, err
}

// Bounds of a sample: every value is cut to valueChars characters (no
// format discover recognises is longer; a document column costs no more
// than a code), and a json document or array gives at most
// elementsPerValue leaves or elements.
const (
	valueChars       = 256
	elementsPerValue = 16
)

// sampleError is why a table could not be sampled, without the server's
// message: PostgreSQL errors may quote the values they failed on.
type sampleError string

func (e sampleError) Error() string { return string(e) }

var sqlstateNames = map[string]string{"42501": "insufficient privilege", "22P02": "invalid input syntax",
	"57014": "query canceled", "42P01": "undefined table", "3F000": "invalid schema name"}

// safeError keeps only the SQLSTATE of a server error.
func safeError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if name := sqlstateNames[pe.Code]; name != "" {
			return sampleError("error SQLSTATE " + pe.Code + ", " + name)
		}
		return sampleError("error SQLSTATE " + pe.Code)
	}
	return err
}

// sample reads up to n rows of a table, each column as text cut to
// valueChars (json documents as their scalar leaves, arrays as their
// elements): a random sample, from TABLESAMPLE of about 4n rows on large
// tables (by the planner's estimate, which follows the table's current
// size; every row when that sample falls short of n), and from every row
// of the others; the first n rows of a foreign table (TABLESAMPLE is not
// available there). Errors carry no server message.
func sample(ctx context.Context, conn *pgx.Conn, t table, n int) ([]discover.Column, error) {
	if t.unreadable != "" {
		return nil, sampleError("not readable by this role: " + t.unreadable)
	}
	cols, kinds, err := columns(ctx, conn, t)
	if err != nil || len(cols) == 0 {
		return cols, safeError(err)
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		id := pgx.Identifier{c.Name}.Sanitize()
		switch kinds[i] {
		case 'a':
			sel[i] = fmt.Sprintf(`(SELECT pg_catalog.json_agg(pg_catalog.left(e::text, %d)) FROM
				(SELECT e FROM pg_catalog.unnest(%s) e WHERE e IS NOT NULL LIMIT %d) s)::text`, valueChars, id, elementsPerValue)
		case 'j':
			sel[i] = fmt.Sprintf(`(SELECT pg_catalog.json_agg(pg_catalog.left(v #>> '{}', %d)) FROM
				(SELECT v FROM pg_catalog.jsonb_path_query(%s::jsonb, 'strict $.**') v
				 WHERE pg_catalog.jsonb_typeof(v) IN ('string', 'number') LIMIT %d) s)::text`, valueChars, id, elementsPerValue)
		default:
			sel[i] = fmt.Sprintf("pg_catalog.left(%s::text, %d)", id, valueChars)
		}
	}
	from, list := t.ident.Sanitize(), strings.Join(sel, ", ")
	if t.kind == 'f' {
		_, err := read(ctx, conn, cols, kinds, fmt.Sprintf("SELECT %s FROM %s LIMIT %d", list, from, n))
		return cols, err
	}
	// Whole rows are sorted (toasted values stay on disk) and only the n
	// kept are cut to text.
	q := "SELECT %s FROM (SELECT * FROM %s%s ORDER BY pg_catalog.random() LIMIT %d) s"
	if est := estimateRows(ctx, conn, t); est > float64(4*n) {
		got, err := read(ctx, conn, cols, kinds, fmt.Sprintf(q, list, from,
			fmt.Sprintf(" TABLESAMPLE SYSTEM (%g)", min(100, 400*float64(n)/est)), n))
		if err != nil || got >= n {
			return cols, err
		}
		// Fewer rows than estimated (the planner assumes ten pages for
		// a table never vacuumed): read them all.
		for i := range cols {
			cols[i].Values = nil
		}
	}
	_, err = read(ctx, conn, cols, kinds, fmt.Sprintf(q, list, from, "", n))
	return cols, err
}

// read runs a sample query, adds the values to cols and returns the
// number of rows read.
func read(ctx context.Context, conn *pgx.Conn, cols []discover.Column, kinds []byte, q string) (int, error) {
	data, err := conn.Query(ctx, q)
	if err != nil {
		return 0, safeError(err)
	}
	defer data.Close()
	rows := 0
	for data.Next() {
		rows++
		for i, v := range data.RawValues() {
			switch {
			case len(v) == 0:
			case kinds[i] == 0:
				cols[i].Values = append(cols[i].Values, string(v))
			default:
				var elems []*string
				if err := json.Unmarshal(v, &elems); err != nil {
					return rows, errors.New("the elements sampled from a json or array column do not decode")
				}
				for _, e := range elems {
					if e != nil && *e != "" {
						cols[i].Values = append(cols[i].Values, *e)
					}
				}
			}
		}
	}
	return rows, safeError(data.Err())
}

// columns lists a table's columns, with 'a' for arrays, 'j' for json and
// jsonb (domains over them too) and 0 for the rest.
func columns(ctx context.Context, conn *pgx.Conn, t table) ([]discover.Column, []byte, error) {
	rows, err := conn.Query(ctx, `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
		  CASE WHEN b.typcategory = 'A' THEN 'a' WHEN b.oid IN ('json'::regtype, 'jsonb'::regtype) THEN 'j' ELSE '' END
		FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
		  JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, t.ident.Sanitize())
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var cols []discover.Column
	var kinds []byte
	for rows.Next() {
		var c discover.Column
		var kind string
		if err := rows.Scan(&c.Name, &c.Type, &kind); err != nil {
			return nil, nil, err
		}
		c.Table, c.Elements = t.name, kind != ""
		cols = append(cols, c)
		if kind == "" {
			kinds = append(kinds, 0)
		} else {
			kinds = append(kinds, kind[0])
		}
	}
	return cols, kinds, rows.Err()
}

// estimateRows is the planner's estimate of a table's rows: pg_class's
// reltuples scaled to the table's current size (and an estimate for a
// table never analysed), falling back to reltuples.
func estimateRows(ctx context.Context, conn *pgx.Conn, t table) float64 {
	var plan []byte
	if err := conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) SELECT * FROM "+t.ident.Sanitize()).Scan(&plan); err != nil {
		return t.reltuple
	}
	var p []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	if err := json.Unmarshal(plan, &p); err != nil || len(p) == 0 {
		return t.reltuple
	}
	return p[0].Plan.Rows
}
