package catalog_test

// Red-team review of the catalog package, against the package's real
// throwaway PostgreSQL (TestMain). Finding tests each demonstrated a
// problem (the comment above each describes it as found) and now pin its
// fix; Holds tests pin behaviour verified correct at the time.

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// rtWithin polls cond every 20ms for d and reports whether it held.
func rtWithin(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedteamCatalogFindingRedefinedViewKeepsStaleLineage: a view
// redefined with CREATE OR REPLACE VIEW by a client that does not go
// through pgmantle (a migration tool, psql on the database host, the
// application's own connection pool pointed at PostgreSQL), or through
// pgmantle inside DO / CALL / a function (command tag "DO", "CALL",
// "SELECT": proxy/backend.go:486 does not see DDL there), keeps its OLD
// lineage in the Manager's snapshot until the next periodic refresh
// (default 5 minutes, unbounded while refreshes fail). The view keeps its
// OID and attnums, so this is not "an unknown name, refused": the stale
// snapshot positively resolves the column to a clean column. Both layers
// consult it — the analyzer expands the view from the stale Definition,
// and the result layer's cross-check maps RowDescription's (view OID,
// attnum) through Origin — so a restricted role selecting v.name gets the
// ID numbers in clear. The README's stated limit covers only tables that
// are new (refused until known), not redefined objects, which fail open.
// (The same holds for a same-named shadow table dropped in a schema
// earlier in search_path: the analyzer resolves to the dropped clean
// table while PostgreSQL reads the protected one.)
//
// Cause: catalog/manager.go:188-221 refreshes only on the timer or
// Invalidate; nothing detects catalog changes made elsewhere, and the
// snapshot carries no way to check it is current.
// Fix: detect changes cheaply and refresh before serving: e.g. a
// documented event trigger (ddl_command_end, sql_drop) that NOTIFYs
// pgmantle_catalog, with the Manager LISTENing on a persistent catalog
// connection and invalidating; or, without superuser, a per-statement
// (or per-N-ms) probe of a catalog version (e.g. max(xmin) of
// pg_class/pg_attribute/pg_rewrite/pg_auth_members compared as xid8) and
// refusing restricted statements while a refresh is pending.
func TestRedteamCatalogFindingRedefinedViewKeepsStaleLineage(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE customers (id int, name text, id_no text);
INSERT INTO customers VALUES (1, 'Zhang Wei', '110101199003074518');
CREATE VIEW v AS SELECT id, name FROM customers;`)
	m, _ := newManager(t, -1)
	before := mustGet(t, m, db)
	conn := superConn(t, db)
	if got := resultOrigins(t, conn, before, "SELECT * FROM v"); !slices.Equal(got, []string{"public.customers.id", "public.customers.name"}) {
		t.Fatalf("premise: origins %q", got)
	}

	// Another client redefines the view: same OID, same column names and
	// types, but "name" now carries the ID numbers.
	execIn(t, db, `CREATE OR REPLACE VIEW v AS SELECT id, id_no AS name FROM customers`)
	if got := resultOrigins(t, conn, load(t, db), "SELECT * FROM v"); got[1] != "public.customers.id_no" {
		t.Fatalf("premise: a fresh load says v.name comes from %q", got[1])
	}

	var stale string
	fresh := rtWithin(3*time.Second, func() bool {
		stale = resultOrigins(t, conn, mustGet(t, m, db), "SELECT * FROM v")[1]
		return stale != "public.customers.name"
	})
	if !fresh {
		t.Errorf("3s after the view was redefined, the Manager's snapshot still resolves v.name (now customers.id_no) to %q: "+
			"a clean column, so the ID numbers would be served unmasked until the next refresh", stale)
	}
}

// TestRedteamCatalogFindingRoleChangeNotSeenByOtherDatabases: role
// memberships are cluster-wide, but each database's snapshot holds its own
// copy, and the proxy invalidates only the database of the session that
// ran the DDL (cmd/pgmantle/protect.go:75 → Manager.Invalidate). A DBA who,
// through pgmantle while connected to database A, runs "REVOKE
// unrestricted_group FROM bob" has bob's sessions on database B still
// resolved with the old memberships (unrestricted, or a laxer group's
// rules) until B's next periodic refresh, 5 minutes by default. Revoking
// access is exactly the change that must take effect at once.
//
// Cause: catalog/manager.go:137-150 Invalidate is per database, and
// roles/memberships are loaded per database (load.go readRoles/readMembers
// → snapshot.go indexRoles); nothing ties role changes to every snapshot.
// Fix: give the Manager an InvalidateAll (or InvalidateRoles) and call it
// for role DDL (CREATE/ALTER/DROP ROLE, GRANT/REVOKE of roles), or keep
// roles in one cluster-wide snapshot shared by all databases and refreshed
// on any Invalidate.
func TestRedteamCatalogFindingRoleChangeNotSeenByOtherDatabases(t *testing.T) {
	t.Parallel()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	grp, bob := unique("rt_unrestricted"), unique("rt_bob")
	if err := c.Exec(ctx, fmt.Sprintf("CREATE ROLE %s NOLOGIN; CREATE ROLE %s LOGIN IN ROLE %s", grp, bob, grp)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Exec(context.Background(), fmt.Sprintf("DROP ROLE IF EXISTS %s; DROP ROLE IF EXISTS %s", bob, grp))
	})
	dbA, dbB := newDB(t, ``), newDB(t, ``)
	m, _ := newManager(t, -1)
	member := func(db string) bool {
		r, ok := mustGet(t, m, db).Role(bob)
		return ok && r.IsMemberOf(grp)
	}
	if !member(dbA) || !member(dbB) {
		t.Fatal("premise: bob is a member in both snapshots")
	}

	if err := c.Exec(ctx, fmt.Sprintf("REVOKE %s FROM %s", grp, bob)); err != nil {
		t.Fatal(err)
	}
	m.Invalidate(dbA) // what the proxy does after DDL in a session on dbA
	eventually(t, "the refresh of "+dbA, func() bool { return !member(dbA) })
	if rtWithin(2*time.Second, func() bool { return !member(dbB) }) {
		return
	}
	t.Errorf("after REVOKE %s FROM %s was seen in %s, the snapshot of %s still makes bob a member: "+
		"his sessions there keep the revoked group's treatment until the next periodic refresh", grp, bob, dbA, dbB)
}

// TestRedteamCatalogFindingDSNParseErrorEchoesPassword: a catalog DSN
// that fails to parse is echoed, with its password, in the error Get
// returns and in the ERROR log line ("catalog: first load failed"). pgconn
// redacts passwords only on a best-effort basis: key=value DSNs with
// spaces around '=' ("password = x", valid libpq syntax) are printed as
// written. The doc (manager.go:53-55) promises log entries "never hold ...
// credentials"; the same error also goes to stderr at startup
// (cmd/pgmantle/protect.go:39-42) and to proxy.Error.Err of refused
// sessions (proxy/resultmask/engine.go:113).
//
// Cause: catalog/manager.go:237 wraps *pgconn.ParseConfigError with %w,
// whose Error() embeds the connection string (pgconn errors.go redactPW).
// Fix: never print a DSN: on a parse error return a fixed message
// ("catalog: catalog.dsn cannot be parsed") plus, at most, the parse
// reason without the connection string (errors.As to
// *pgconn.ParseConfigError and drop ConnString).
func TestRedteamCatalogFindingDSNParseErrorEchoesPassword(t *testing.T) {
	t.Parallel()
	const secret = "Catal0g-Secret-Pw"
	for _, dsn := range []string{
		"host=127.0.0.1 user=pgmantle_catalog password =" + secret + " sslmode=bogus",
		"host=127.0.0.1 user=pgmantle_catalog password = " + secret + " connect_timeout=x",
		"host=127.0.0.1 user=pgmantle_catalog sslpassword = " + secret + " sslmode=bogus",
	} {
		m, logs := newManager(t, -1)
		m.DSN = dsn
		_, err := m.Get(pgtest.Context(t), "postgres")
		if err == nil {
			t.Fatalf("%q: Get succeeded", dsn)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Get's error holds the catalog password: %v", err)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds the catalog password:\n%s", logs)
		}
	}
}

// TestRedteamCatalogFindingNoStalenessBoundWhenRefreshFails: once the
// catalog connection stops working (role locked, password rotated, pg_hba
// changed), every refresh fails and Get keeps returning the last snapshot,
// with no error, for ever. Combined with the stale-lineage finding above,
// a view redefined during the outage is served unmasked for the whole
// outage; the only trace is a WARN log line per attempt. Fail closed would
// mean: past a bound (a few intervals), Get fails and restricted sessions
// are refused until the catalog can be read again.
//
// Cause: catalog/manager.go:210-213 keeps the previous snapshot after any
// number of failed refreshes; Get (manager.go:105-107) never looks at its
// age.
// Fix: a MaxAge (default e.g. 3×Interval, configurable as
// catalog.max_age): Get returns an error when the current snapshot is
// older and the last refresh failed; expose it in metrics (see
// TestRedteamAdminFindingNoCatalogHealth).
func TestRedteamCatalogFindingNoStalenessBoundWhenRefreshFails(t *testing.T) {
	t.Parallel()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	role, password := unique("rt_catalog_locked"), "rt-Locked-Pa55"
	if err := c.CreateRole(ctx, role, password, pgcluster.AuthSCRAM); err != nil {
		t.Fatal(err)
	}
	db := newDB(t, `
CREATE TABLE customers (id int, name text, id_no text);
CREATE VIEW v AS SELECT id, name FROM customers;`)
	m, logs := newManager(t, 100*time.Millisecond)
	m.DSN = c.DSN(role, password, "postgres")
	old := mustGet(t, m, db)

	if err := c.Exec(ctx, "ALTER ROLE "+role+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Exec(context.Background(), "ALTER ROLE "+role+" LOGIN") })
	execIn(t, db, `CREATE OR REPLACE VIEW v AS SELECT id, id_no AS name FROM customers`)
	eventually(t, "refresh failures", func() bool { return strings.Count(logs.String(), "refresh failed") >= 10 })

	s, err := m.Get(ctx, db)
	if err == nil && s == old {
		t.Errorf("after >=10 failed refreshes (100ms interval, snapshot %v old), Get still serves the old snapshot without error: "+
			"no staleness bound, so the catalog outage fails open", time.Since(old.LoadedAt).Round(time.Millisecond))
	}
	if strings.Contains(logs.String(), password) {
		t.Errorf("the log holds the catalog password")
	}
}

// TestRedteamCatalogHoldsFirstLoadFailureFailsClosed: when the catalog
// cannot be read at first (nothing listening, wrong password), Get
// returns an error and no snapshot, Cached has none, the error is not
// cached (the next Get loads again), and neither error nor log holds the
// password.
func TestRedteamCatalogHoldsFirstLoadFailureFailsClosed(t *testing.T) {
	t.Parallel()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := l.Addr().String()
	l.Close()
	role := unique("rt_catalog_pw")
	if err := c.CreateRole(ctx, role, "rt-Right-Pa55", pgcluster.AuthSCRAM); err != nil {
		t.Fatal(err)
	}
	const wrong = "rt-Wrong-Pa55-XYZ"
	for name, dsn := range map[string]string{
		"unreachable":    "postgres://pgmantle_catalog:" + wrong + "@" + closedAddr + "/postgres?sslmode=disable&connect_timeout=2",
		"wrong password": c.DSN(role, wrong, "postgres"),
	} {
		m, logs := newManager(t, -1)
		m.DSN = dsn
		var loads atomic.Int32
		catalog.SetBeforeLoad(m, func(context.Context, string) { loads.Add(1) })
		for range 2 {
			s, err := m.Get(ctx, "postgres")
			if err == nil || s != nil {
				t.Errorf("%s: Get = %v, %v; want an error and no snapshot", name, s, err)
			} else if strings.Contains(err.Error(), wrong) {
				t.Errorf("%s: error holds the password: %v", name, err)
			}
			if _, ok := m.Cached("postgres"); ok {
				t.Errorf("%s: Cached has a snapshot after a failed load", name)
			}
		}
		if n := loads.Load(); n != 2 {
			t.Errorf("%s: %d loads for two Gets; a failed first load must not be cached", name, n)
		}
		if strings.Contains(logs.String(), wrong) {
			t.Errorf("%s: log holds the password:\n%s", name, logs)
		}
	}
}

// TestRedteamCatalogHoldsRecreatedObjectsFailClosed: between refreshes,
// objects dropped and re-created under the same name get new OIDs (or
// attnums), which the stale snapshot does not know: the (OID, attnum) the
// server reports resolves to nothing (callers refuse), never to the old
// object's columns. A renamed table keeps its OID, so it keeps resolving to
// the columns it had (still protected). After a refresh the new objects
// resolve.
func TestRedteamCatalogHoldsRecreatedObjectsFailClosed(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE TABLE t (id int, id_no text);
CREATE TABLE r (id int, id_no text);
CREATE TABLE d (id int, id_no text);
CREATE VIEW vw AS SELECT id, id_no FROM t;`)
	m, _ := newManager(t, -1)
	stale := mustGet(t, m, db)
	execIn(t, db, `
DROP VIEW vw;
DROP TABLE t;
CREATE TABLE t (id_no text, id int);
CREATE VIEW vw AS SELECT id_no AS id, id AS id_no FROM t;
ALTER TABLE r RENAME TO r2;
ALTER TABLE d DROP COLUMN id_no;
ALTER TABLE d ADD COLUMN id_no text;`)
	conn := superConn(t, db)
	for q, want := range map[string][]string{
		"SELECT * FROM t":         {"", ""},
		"SELECT * FROM vw":        {"", ""},
		"SELECT * FROM r2":        {"public.r.id", "public.r.id_no"},
		"SELECT id, id_no FROM d": {"public.d.id", ""},
	} {
		if got := resultOrigins(t, conn, stale, q); !slices.Equal(got, want) {
			t.Errorf("stale snapshot, %s: origins %q, want %q", q, got, want)
		}
	}
	m.Invalidate(db)
	eventually(t, "the refresh", func() bool { return mustGet(t, m, db) != stale })
	s := mustGet(t, m, db)
	if got := resultOrigins(t, conn, s, "SELECT * FROM vw"); !slices.Equal(got, []string{"public.t.id_no", "public.t.id"}) {
		t.Errorf("after the refresh, vw: %q", got)
	}
}

// TestRedteamCatalogHoldsSearchPathShadowing: tables of the same name in
// several schemas stay distinct; whichever one the session's search_path
// makes PostgreSQL read, the server's (OID, attnum) resolves to that
// schema's column. A temporary table shadowing a protected one (pg_temp is
// searched first) is not loaded, so its columns have no origin (refused),
// never the protected table's nor a clean one's.
func TestRedteamCatalogHoldsSearchPathShadowing(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE SCHEMA shadow;
CREATE TABLE public.contacts (id int, id_no text);
CREATE TABLE shadow.contacts (id int, id_no text);`)
	s := load(t, db)
	pub, sh := s.RelationByName("public", "contacts"), s.RelationByName("shadow", "contacts")
	if pub == nil || sh == nil || pub.OID == sh.OID {
		t.Fatalf("relations: %+v %+v", pub, sh)
	}
	conn := superConn(t, db)
	ctx := pgtest.Context(t)
	for _, c := range []struct{ path, want string }{
		{"shadow, public", "shadow.contacts.id_no"},
		{"public, shadow", "public.contacts.id_no"},
		{`"$user", shadow, public`, "shadow.contacts.id_no"},
	} {
		if _, err := conn.Exec(ctx, "SET search_path = "+c.path); err != nil {
			t.Fatal(err)
		}
		// Distinct text per search_path: pgx caches statement descriptions by text.
		if got := resultOrigins(t, conn, s, "SELECT id_no FROM contacts -- "+c.path); got[0] != c.want {
			t.Errorf("search_path %s: origin %q, want %q", c.path, got[0], c.want)
		}
	}
	if _, err := conn.Exec(ctx, "SET search_path = public; CREATE TEMP TABLE contacts (id int, id_no text)"); err != nil {
		t.Fatal(err)
	}
	s2 := load(t, db) // even a fresh load
	if got := resultOrigins(t, conn, s2, "SELECT id, id_no FROM contacts"); !slices.Equal(got, []string{"", ""}) {
		t.Errorf("temporary shadow table: origins %q, want unknown", got)
	}
}

// TestRedteamCatalogHoldsQuotedIdentifiers: quoted, mixed-case and odd
// names (spaces, dots, quotes, non-ASCII) are kept exactly as stored:
// lookups are case-sensitive with no folding, a mixed-case relation is
// distinct from its lower-case namesake, and origins and patterns report
// the exact names.
func TestRedteamCatalogHoldsQuotedIdentifiers(t *testing.T) {
	t.Parallel()
	db := newDB(t, `
CREATE SCHEMA "Bk";
CREATE SCHEMA bk;
CREATE TABLE "Bk"."Contacts" ("ID_No" text, "id no" text, "a.b" text, "客户" text, "x""y" text, id_no text);
CREATE TABLE bk.contacts (id_no text);
CREATE TABLE bk."contacts.id_no" (x text);`)
	s := load(t, db)
	upper, lower := s.RelationByName("Bk", "Contacts"), s.RelationByName("bk", "contacts")
	if upper == nil || lower == nil || upper.OID == lower.OID {
		t.Fatalf("relations: %+v %+v", upper, lower)
	}
	if s.RelationByName("bk", "Contacts") != nil || s.RelationByName("BK", "CONTACTS") != nil {
		t.Error("lookup folded case")
	}
	conn := superConn(t, db)
	got := resultOrigins(t, conn, s, `SELECT "ID_No", "id no", "a.b", "客户", "x""y", id_no FROM "Bk"."Contacts"`)
	want := []string{"Bk.Contacts.ID_No", "Bk.Contacts.id no", "Bk.Contacts.a.b", "Bk.Contacts.客户", `Bk.Contacts.x"y`, "Bk.Contacts.id_no"}
	if !slices.Equal(got, want) {
		t.Errorf("origins %q, want %q", got, want)
	}
	refs := s.Columns("Bk", "Contacts", "ID_*")
	if len(refs) != 1 || refs[0].Column != "ID_No" {
		t.Errorf("Columns(Bk, Contacts, ID_*) = %v", refs)
	}
	refs = s.Columns("bk", "*", "id_no")
	if len(refs) != 1 || refs[0] != (catalog.ColumnRef{Schema: "bk", Table: "contacts", Column: "id_no"}) {
		t.Errorf("Columns(bk, *, id_no) = %v", refs)
	}
	if _, ok := s.Column(catalog.ColumnRef{Schema: "bk", Table: "contacts.id_no", Column: "x"}); !ok {
		t.Error("a table whose name contains a dot is not found by its exact parts")
	}
}

// TestRedteamCatalogHoldsManySchemas: 300 schemas each holding a table of
// the same name load into one snapshot with distinct entries, and the
// server's (OID, attnum) resolves to the right one whichever search_path
// selects it.
func TestRedteamCatalogHoldsManySchemas(t *testing.T) {
	t.Parallel()
	const n = 300
	db := newDB(t, fmt.Sprintf(`
DO $$
BEGIN
	FOR i IN 1..%d LOOP
		EXECUTE format('CREATE SCHEMA s%%s; CREATE TABLE s%%s.contacts (id int, id_no text)', i, i);
	END LOOP;
END $$`, n))
	s := load(t, db)
	seen := map[uint32]bool{}
	for i := 1; i <= n; i++ {
		r := s.RelationByName(fmt.Sprintf("s%d", i), "contacts")
		if r == nil || seen[r.OID] {
			t.Fatalf("s%d.contacts: %+v", i, r)
		}
		seen[r.OID] = true
	}
	if got := len(s.Columns("s*", "contacts", "id_no")); got != n {
		t.Errorf("Columns(s*, contacts, id_no): %d, want %d", got, n)
	}
	conn := superConn(t, db)
	for _, i := range []int{1, 150, n} {
		if _, err := conn.Exec(pgtest.Context(t), fmt.Sprintf("SET search_path = s%d, s1", i)); err != nil {
			t.Fatal(err)
		}
		if got := resultOrigins(t, conn, s, fmt.Sprintf("SELECT id_no FROM contacts -- %d", i))[0]; got != fmt.Sprintf("s%d.contacts.id_no", i) {
			t.Errorf("search_path s%d: origin %q", i, got)
		}
	}
}
