package resultmask_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/proxy"
	"github.com/pgmantle/pgmantle/proxy/resultmask"
)

// TestRestrictedSessionPlanner: restricted sessions run without index
// scans and merge joins, which return rows in the order of the values
// they read (red-team round 17: through an index over a protected column,
// WHERE bonus IS NOT NULL, a LIMIT 1 repeated, or several tokens in one
// IN list ranked values the mask shows alike). The settings come in the
// startup packet, over the client's own (in any spelling, or in
// options), so RESET ALL and DISCARD ALL return to them; SET is refused.
// Unrestricted sessions keep PostgreSQL's defaults; the control shows the
// index order the settings hide.
func TestRestrictedSessionPlanner(t *testing.T) {
	db := newDatabase(t, `
CREATE SCHEMA p;
CREATE TABLE p.pay (id int PRIMARY KEY, bonus int);
INSERT INTO p.pay VALUES (1, 23457), (2, 9871), (3, 30333), (4, 23100), (5, 12983);
INSERT INTO p.pay (id) SELECT g FROM generate_series(10, 20009) g;
CREATE INDEX pay_bonus ON p.pay (bonus);
ANALYZE p.pay;
GRANT USAGE ON SCHEMA p TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA p TO PUBLIC;
`)
	addr, _ := startProxy(t, db, writePolicy(t, plannerPolicy))
	const query = "SELECT id FROM p.pay WHERE bonus IS NOT NULL LIMIT 5"
	run := func(conn *pgconn.PgConn, sql string) (string, error) {
		res, err := conn.Exec(pgtest.Context(t), sql).ReadAll()
		var b strings.Builder
		for _, r := range res {
			for _, row := range r.Rows {
				b.Write(row[0])
				b.WriteByte(' ')
			}
		}
		return strings.TrimSpace(b.String()), err
	}
	connect := func(role, extra string) *pgconn.PgConn {
		conn, err := pgconn.Connect(pgtest.Context(t), fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable%s", role, password, addr, db, extra))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}
	// The control: an unrestricted session, with costs that make the
	// planner pick the index, gets the bonus order.
	bk := connect("bookkeeper", "")
	if got, _ := run(bk, "SHOW enable_indexscan"); got != "on" {
		t.Errorf("unrestricted session: enable_indexscan = %q, want on", got)
	}
	run(bk, "SET random_page_cost = 0.001")
	if got, _ := run(bk, query); got != "2 5 4 1 3" {
		t.Errorf("control: the unrestricted session got %q, not the index (bonus) order 2 5 4 1 3: the test cannot tell", got)
	}
	// Cost settings in the startup packet could outweigh the penalty on
	// index scans (red-team round 18): such a session is refused.
	for _, extra := range []string{"&seq_page_cost=1e12", "&options=-c%20random_page_cost%3D0"} {
		conn, err := pgconn.Connect(pgtest.Context(t), fmt.Sprintf("postgres://analyst:%s@%s/%s?sslmode=disable%s", password, addr, db, extra))
		if err == nil {
			conn.Close(context.Background())
			t.Errorf("a restricted session with %s was accepted", extra)
		} else if !strings.Contains(err.Error(), "planner costs") {
			t.Errorf("a restricted session with %s: %v, want the planner refusal", extra, err)
		}
	}
	for name, extra := range map[string]string{
		"plain":              "",
		"client-param":       "&enable_indexscan=on&enable_mergejoin=on",
		"client-param-upper": "&ENABLE_INDEXSCAN=on",
		"client-options":     "&options=-c%20enable_indexscan%3Don",
	} {
		t.Run(name, func(t *testing.T) {
			an := connect("analyst", extra)
			check := func(when string) {
				for _, g := range []string{"enable_indexscan", "enable_indexonlyscan", "enable_mergejoin"} {
					if got, err := run(an, "SHOW "+g); got != "off" {
						t.Errorf("%s: %s = %q (%v), want off", when, g, got, err)
					}
				}
				run(an, "SET random_page_cost = 0.001")
				if got, err := run(an, query); err != nil || got != "1 2 3 4 5" {
					t.Errorf("%s: %s gave %q (%v), want the table's order 1 2 3 4 5", when, query, got, err)
				}
			}
			check("at login")
			run(an, "RESET ALL")
			check("after RESET ALL")
			run(an, "DISCARD ALL")
			check("after DISCARD ALL")
			for _, set := range []string{"SET enable_indexscan = on", "SET seq_page_cost = 1e12", "SELECT set_config('random_page_cost', '0', false)"} {
				if _, err := run(an, set); !rt16IsRefusal(err) {
					t.Errorf("%s: %v, want a refusal", set, err)
				}
			}
		})
	}
}

// TestRestrictedSessionWithoutPlannerSettings: the planner settings are
// chosen (UpstreamParams) before the login, from the policy and catalog
// of that moment; Intercept decides after it. A change between the two
// (a policy reload making the role restricted) would leave a restricted
// session with index scans on. Here UpstreamParams decides wrongly on
// purpose: the restricted login is refused, the unrestricted one goes on.
func TestRestrictedSessionWithoutPlannerSettings(t *testing.T) {
	db := newDatabase(t, `
CREATE SCHEMA p;
CREATE TABLE p.pay (id int PRIMARY KEY, bonus int);
GRANT USAGE ON SCHEMA p TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA p TO PUBLIC;
`)
	addr, _ := startProxyWith(t, db, writePolicy(t, plannerPolicy), func(_ *resultmask.Engine, srv *proxy.Server) {
		srv.UpstreamParams = func(user, database string) map[string]string { return nil }
	})
	for _, role := range []string{"analyst", "bookkeeper"} {
		conn, err := pgconn.Connect(pgtest.Context(t), fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", role, password, addr, db))
		if err == nil {
			conn.Close(context.Background())
		}
		switch {
		case role == "analyst" && (err == nil || !strings.Contains(err.Error(), "started without enable_")):
			t.Errorf("restricted login without the planner settings: %v, want it refused", err)
		case role == "bookkeeper" && err != nil:
			t.Errorf("unrestricted login: %v", err)
		}
	}
}

// plannerPolicy masks p.pay.bonus for the analyst; the bookkeeper is
// unrestricted.
const plannerPolicy = `
classes:
  salary: [p.pay.bonus]
roles:
  analyst:
    rules:
      salary: {mask: round, to: 1000}
  bookkeeper: {unrestricted: true}
`

// TestRestrictedSessionDateStyle: masked dates are read and written in
// ISO form, so a restricted session whose DateStyle is another (here set
// when connecting) ended at its first masked date; it is now refused at
// login with the reason, and SET DateStyle to another style is refused
// (parser cases). Unrestricted sessions keep any style.
func TestRestrictedSessionDateStyle(t *testing.T) {
	db := newDatabase(t, `
CREATE SCHEMA p;
CREATE TABLE p.pay (id int PRIMARY KEY, bonus int);
GRANT USAGE ON SCHEMA p TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA p TO PUBLIC;
`)
	addr, _ := startProxy(t, db, writePolicy(t, plannerPolicy))
	for _, role := range []string{"analyst", "bookkeeper"} {
		conn, err := pgconn.Connect(pgtest.Context(t), fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable&options=-c%%20DateStyle%%3DGerman", role, password, addr, db))
		if err == nil {
			conn.Close(context.Background())
		}
		switch {
		case role == "analyst" && (err == nil || !strings.Contains(err.Error(), "DateStyle German")):
			t.Errorf("restricted login with DateStyle German: %v, want it refused", err)
		case role == "bookkeeper" && err != nil:
			t.Errorf("unrestricted login with DateStyle German: %v", err)
		}
	}
}
