package catalog_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestMain starts one throwaway PostgreSQL for the package. Each test
// works in databases (and under role names) of its own.
func TestMain(m *testing.M) {
	pgtest.Main(m, pgcluster.Options{})
}

var dbSeq atomic.Int64

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// newDB creates a database for tb, runs setup in it as the superuser (setup
// may hold several statements), and drops it when the test ends.
func newDB(tb testing.TB, setup string) string {
	tb.Helper()
	c := pgtest.Cluster(tb)
	ctx := pgtest.Context(tb)
	name := fmt.Sprintf("c%d_%s", dbSeq.Add(1), nonIdent.ReplaceAllString(strings.ToLower(tb.Name()), "_"))
	if len(name) > 63 {
		name = name[:63]
	}
	if err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	if setup != "" {
		execIn(tb, name, setup)
	}
	return name
}

// unique returns prefix with a number no other call in this process gets,
// for cluster-wide names such as roles.
func unique(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, dbSeq.Add(1))
}

// execIn runs sql as the superuser in database db.
func execIn(tb testing.TB, db, sql string) {
	tb.Helper()
	conn := pgtest.Connect(tb, pgtest.Cluster(tb).DSN("postgres", "", db))
	if _, err := conn.Exec(pgtest.Context(tb), sql); err != nil {
		tb.Fatalf("exec in %s: %v", db, err)
	}
	conn.Close(context.Background())
}

// superConn connects to db as the superuser.
func superConn(tb testing.TB, db string) *pgx.Conn {
	tb.Helper()
	return pgtest.Connect(tb, pgtest.Cluster(tb).DSN("postgres", "", db))
}

// load loads db's snapshot as the superuser.
func load(tb testing.TB, db string) *catalog.Snapshot {
	tb.Helper()
	s, err := catalog.Load(pgtest.Context(tb), superConn(tb, db), db)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// relOID returns the OID of relation name (a regclass literal) in db.
func relOID(tb testing.TB, conn *pgx.Conn, name string) uint32 {
	tb.Helper()
	var oid uint32
	if err := conn.QueryRow(pgtest.Context(tb), "SELECT $1::regclass::oid", name).Scan(&oid); err != nil {
		tb.Fatalf("oid of %s: %v", name, err)
	}
	return oid
}

// originOf resolves (relation, column name) to its origin as a string,
// "" when unknown.
func originOf(tb testing.TB, s *catalog.Snapshot, schema, rel, col string) string {
	tb.Helper()
	r := s.RelationByName(schema, rel)
	if r == nil {
		tb.Fatalf("relation %s.%s not in snapshot", schema, rel)
	}
	c, ok := r.ColumnByName(col)
	if !ok {
		tb.Fatalf("column %s not in %s.%s", col, schema, rel)
	}
	return originString(s, r.OID, c.Num)
}

func originString(s *catalog.Snapshot, oid uint32, attnum int16) string {
	ref, col, ok := s.Origin(oid, attnum)
	if !ok {
		return ""
	}
	if ref.Column != col.Name {
		return "MISMATCH:" + ref.String() + "/" + col.Name
	}
	return ref.String()
}

// resultOrigins runs query on conn, takes the (table OID, attnum) pairs the
// server's RowDescription reports for it — exactly what the proxy sees —
// and resolves each through s.Origin ("" for unknown).
func resultOrigins(tb testing.TB, conn *pgx.Conn, s *catalog.Snapshot, query string) []string {
	tb.Helper()
	rows, err := conn.Query(pgtest.Context(tb), query)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for _, fd := range rows.FieldDescriptions() {
		out = append(out, originString(s, fd.TableOID, int16(fd.TableAttributeNumber)))
	}
	return out
}
