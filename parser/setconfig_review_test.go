package parser_test

// Review of the set_config change (parser/setconfig.go and its hooks in
// analyze.go, state.go and cache.go).
//
// TestSetConfigReviewFindings demonstrates bypasses: each subtest shows
// that pgmantle admits a statement as a harmless SET while the real
// PostgreSQL of the test cluster does something else with it (a different
// search_path, user code). It is expected to FAIL while the bypasses exist.
//
// TestSetConfigReviewHolds collects the probes that are correctly refused
// or correctly tracked; it must pass.

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/analysiscases"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/parser"
)

// The probe is allowed only when pgmantle resolves the unqualified
// "contacts" to staging.contacts (clean id_no) under every search_path it
// thinks the session may have; under bk.contacts it is a LIKE predicate on
// a cn_id column and refused. If PostgreSQL runs it on bk.contacts, the
// analyst gets a prefix oracle on real ID numbers (the result layer's
// origin check does not see predicates: the only output column is id).
const scProbe = "SELECT id FROM contacts WHERE id_no LIKE '31%'"

// A cn_id value seeded in bk.contacts.
const scSecret = "310105198807158033"

type scSession struct {
	t     *testing.T
	env   *parser.Env
	rules parser.Rules
	st    *parser.State
}

func newSCSession(t *testing.T, env *parser.Env) *scSession {
	_, pol := testEnv(t)
	return &scSession{t: t, env: env, rules: pol.Resolve("analyst", nil), st: parser.NewState("analyst")}
}

// run admits sql as a simple Query sent while idle (as pgmantle does for
// psql and pg_dump) and, if allowed, records each statement completed, as
// pgmantle does on CommandComplete. It returns the first refusal.
func (s *scSession) run(sql string) string { return s.runAs(sql, true) }

// runAs admits sql; immediate says whether it is sent while idle (no
// transaction open, nothing in flight).
func (s *scSession) runAs(sql string, immediate bool) string {
	s.st.Immediate = immediate
	a := parser.Analyze(sql, s.env, s.st)
	refusal := ""
	for _, st := range a.Statements {
		if d := parser.Decide(st, "analyst", s.rules, false); d.Refusal != "" && refusal == "" {
			refusal = d.Refusal
		}
	}
	if refusal == "" {
		for _, st := range a.Statements {
			s.st.Completed(st)
		}
	}
	return refusal
}

// runNoConfirm admits sql without recording completion.
func (s *scSession) runNoConfirm(sql string) string {
	s.st.Immediate = true
	a := parser.Analyze(sql, s.env, s.st)
	for _, st := range a.Statements {
		if d := parser.Decide(st, "analyst", s.rules, false); d.Refusal != "" {
			return d.Refusal
		}
	}
	return ""
}

func (s *scSession) probeAllowed() bool {
	s.st.Immediate = true
	a := parser.Analyze(scProbe, s.env, s.st)
	return parser.Decide(a.Statements[0], "analyst", s.rules, false).Refusal == ""
}

// scPG is a superuser connection to the test schema's database (the one
// testEnv built) for checking what PostgreSQL really does.
func scPG(t *testing.T, db string) *pgx.Conn {
	c := pgtest.Cluster(t)
	return pgtest.Connect(t, c.DSN(c.SuperUser, "", db))
}

func scCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pgReal runs setup and sql on a fresh search_path and returns
// current_schemas(true) and the schema unqualified "contacts" resolves to.
func pgReal(t *testing.T, conn *pgx.Conn, setup []string, sql string) (schemas, contacts string, err error) {
	ctx := scCtx(t)
	if _, err := conn.Exec(ctx, "RESET search_path"); err != nil {
		t.Fatal(err)
	}
	for _, s := range setup {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	_, err = conn.Exec(ctx, sql)
	schemas, contacts = pgNow(t, conn)
	return schemas, contacts, err
}

func pgNow(t *testing.T, conn *pgx.Conn) (schemas, contacts string) {
	err := conn.QueryRow(scCtx(t), `SELECT pg_catalog.array_to_string(pg_catalog.current_schemas(true), '|'),
		COALESCE((SELECT c.relnamespace::pg_catalog.regnamespace::pg_catalog.text FROM pg_catalog.pg_class c
		          WHERE c.oid = pg_catalog.to_regclass('contacts')), '')`).Scan(&schemas, &contacts)
	if err != nil {
		t.Fatal(err)
	}
	return schemas, contacts
}

// trackedSchemas returns, for each search_path setting pgmantle thinks
// the session may have, what PostgreSQL makes of that setting.
func trackedSchemas(t *testing.T, conn *pgx.Conn, st *parser.State) []string {
	var out []string
	for _, setting := range st.SearchPaths() {
		if _, err := conn.Exec(scCtx(t), "SELECT pg_catalog.set_config('search_path', $1, false)", setting); err != nil {
			t.Fatalf("tracked setting %q: %v", setting, err)
		}
		s, _ := pgNow(t, conn)
		out = append(out, s)
	}
	return out
}

func scContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A second database with the test schema plus objects whose names differ
// from pg_catalog's only in case, lower-case shadows, and domains named
// like the types setconfig.go's casts accept. None of them can be created
// by a restricted role through pgmantle; they stand for what an owner or
// another, unrestricted role may have created.
const scReviewObjects = `
CREATE FUNCTION public.review_leak(pg_catalog.text) RETURNS boolean LANGUAGE plpgsql
    AS $$BEGIN RAISE EXCEPTION 'leak: %', (SELECT pg_catalog.string_agg(id_no, ',') FROM bk.contacts); END$$;
CREATE SCHEMA "PG_CATALOG";
GRANT USAGE ON SCHEMA "PG_CATALOG" TO PUBLIC;
CREATE FUNCTION "PG_CATALOG".set_config(pg_catalog.text, pg_catalog.text, boolean) RETURNS pg_catalog.text
    LANGUAGE sql AS 'SELECT pg_catalog.string_agg(id_no, '','') FROM bk.contacts';
CREATE FUNCTION public."SET_CONFIG"(pg_catalog.text, pg_catalog.text, boolean) RETURNS pg_catalog.text
    LANGUAGE sql AS 'SELECT pg_catalog.string_agg(id_no, '','') FROM bk.contacts';
CREATE VIEW public."PG_SETTINGS" AS SELECT name FROM bk.contacts;
GRANT SELECT ON public."PG_SETTINGS" TO PUBLIC;
CREATE DOMAIN public."TEXT" AS pg_catalog.text CHECK (public.review_leak(VALUE));
CREATE DOMAIN public."BOOL" AS boolean CHECK (public.review_leak(VALUE::pg_catalog.text));
CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.review_leak(VALUE));
CREATE FUNCTION public.set_config(pg_catalog.text, pg_catalog.text, boolean) RETURNS pg_catalog.text
    LANGUAGE sql AS 'SELECT ''shadow''::pg_catalog.text';
CREATE FUNCTION public.set_config(pg_catalog.text, pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql AS 'SELECT pg_catalog.string_agg(id_no, '','') FROM bk.contacts';
CREATE FUNCTION public.set_config(pg_catalog.name, pg_catalog.text, boolean) RETURNS pg_catalog.text
    LANGUAGE sql AS 'SELECT pg_catalog.string_agg(id_no, '','') FROM bk.contacts';
CREATE VIEW public.pg_settings AS SELECT 'search_path'::pg_catalog.text AS name;
GRANT SELECT ON public.pg_settings TO PUBLIC;
`

var (
	scOnce sync.Once
	scEnv  *parser.Env
	scErr  error
)

func scReviewEnv(t *testing.T) *parser.Env {
	_, pol := testEnv(t) // creates the roles too
	scOnce.Do(func() {
		c := pgtest.Cluster(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if scErr = c.Exec(ctx, "CREATE DATABASE setconfig_review"); scErr != nil {
			return
		}
		conn := scPG(t, "setconfig_review")
		if _, scErr = conn.Exec(ctx, bookkeeping.Schema+analysiscases.Schema+analysiscases.Data+scReviewObjects); scErr != nil {
			return
		}
		var snap *catalog.Snapshot
		if snap, scErr = catalog.Load(ctx, conn, "setconfig_review"); scErr != nil {
			return
		}
		scEnv = parser.NewEnv(snap, pol.ClassOf(snap), pol.Functions)
	})
	if scErr != nil {
		t.Fatal(scErr)
	}
	return scEnv
}

// scUserCode: pgmantle admits sql (after setup) in the review database,
// and PostgreSQL, running the same as analyst, answers with (or fails
// with) protected values that only user code can have produced.
func scUserCode(t *testing.T, renv *parser.Env, rconn *pgx.Conn, setup []string, sql, why string) {
	t.Helper()
	ctx := scCtx(t)
	t.Helper()
	s := newSCSession(t, renv)
	for _, q := range setup {
		if r := s.run(q); r != "" {
			t.Fatalf("setup %q refused: %s", q, r)
		}
	}
	refusal := s.run(sql)
	if _, err := rconn.Exec(ctx, "RESET ALL"); err != nil {
		t.Fatal(err)
	}
	if _, err := rconn.Exec(ctx, "SET ROLE analyst"); err != nil {
		t.Fatal(err)
	}
	for _, q := range setup {
		if _, err := rconn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var out string
	err := rconn.QueryRow(ctx, sql).Scan(&out)
	var pgSays string
	if err != nil {
		pgSays = err.Error()
	} else {
		pgSays = out
	}
	if _, err := rconn.Exec(ctx, "RESET ROLE"); err != nil {
		t.Fatal(err)
	}
	if refusal == "" && strings.Contains(pgSays, scSecret) {
		t.Errorf("BYPASS: pgmantle admits %q as a SET; PostgreSQL (as analyst) runs user code and returns %q.\n%s", sql, pgSays, why)
	} else {
		t.Logf("not reproduced: refusal %q, PostgreSQL: %q", refusal, pgSays)
	}
}

// TestSetConfigReviewFindings: bypasses. Expected to FAIL.
func TestSetConfigReviewFindings(t *testing.T) {
	env, _ := testEnv(t)
	conn := scPG(t, "analysis")

	// pathBypass: pgmantle admits setup+sql and then allows scProbe (it
	// believes "contacts" is staging.contacts), while PostgreSQL, after
	// the same statements, resolves "contacts" to bk.contacts.
	pathBypass := func(t *testing.T, setup []string, sql, why string) {
		t.Helper()
		s := newSCSession(t, env)
		for _, q := range setup {
			if r := s.run(q); r != "" {
				t.Fatalf("setup %q refused: %s", q, r)
			}
		}
		if r := s.run(sql); r != "" {
			t.Logf("not reproduced: pgmantle refuses %q: %s", sql, r)
			return
		}
		allowed := s.probeAllowed()
		schemas, real, err := pgReal(t, conn, setup, sql)
		if err != nil {
			t.Logf("not reproduced: PostgreSQL fails %q: %v", sql, err)
			return
		}
		if allowed && real == "bk" {
			t.Errorf("BYPASS: after %q pgmantle tracks search_path %q and allows %q as a query on staging.contacts, "+
				"but PostgreSQL's search_path is %q and runs it on bk.contacts (a LIKE oracle on cn_id).\n%s",
				sql, s.st.SearchPaths(), scProbe, schemas, why)
		} else {
			t.Logf("not reproduced: probe allowed=%v, PostgreSQL resolves contacts to %q (%s)", allowed, real, schemas)
		}
	}

	// F1. pg_dump's guarded form with a setting name PostgreSQL's
	// pg_settings does not hold in that spelling: the WHERE matches no
	// row, set_config never runs and the statement completes ("SELECT
	// 0"); PostgreSQL's search_path is unchanged. setConfigSet lower-cases
	// the name and treats the statement as SET search_path = staging; sent
	// on its own while idle it carries a PathChange, and pgmantle's
	// StatementCompleted (CommandComplete 'C') confirms it: the tracked
	// paths collapse to staging alone.
	t.Run("F1_guard_case_mismatch_confirms_a_SET_that_never_ran", func(t *testing.T) {
		pathBypass(t, []string{"SET search_path = bk"},
			"SELECT set_config(name, 'staging', false) FROM pg_settings WHERE name = 'SEARCH_PATH'",
			"pg_settings.name holds lower-case names; WHERE name = 'SEARCH_PATH' selects nothing, so no SET happens, yet pgmantle confirms it.")
	})

	// F2. splitPath treats a double quote anywhere as opening a quoted
	// section; PostgreSQL's SplitIdentifierString only treats a quote at
	// the start of a name as quoting (inside an unquoted name it is an
	// ordinary character).
	t.Run("F2_quote_inside_unquoted_name", func(t *testing.T) {
		pathBypass(t, nil, `SELECT set_config('search_path', 'st"aging", bk', false)`,
			`pgmantle reads 'st"aging"' as staging; PostgreSQL reads the name st"aging" (no such schema), so bk is searched.`)
		pathBypass(t, nil, `SELECT set_config('search_path', 'x"y, bk, z"w, staging', false)`,
			`pgmantle reads one quoted name "xy, bk, zw" then staging; PostgreSQL reads x"y, bk, z"w, staging.`)
	})

	// F3. Whitespace differs: splitPath trims with strings.TrimSpace
	// (Unicode spaces, \v, U+0085, U+00A0) around unquoted names, and does
	// not skip \r or \f outside quotes (it appends them to a quoted name);
	// PostgreSQL's scanner_isspace is exactly ' ', \t, \n, \r, \f (PG 16+
	// adds \v).
	t.Run("F3_whitespace_set_differs", func(t *testing.T) {
		pathBypass(t, nil, "SELECT set_config('search_path', 'staging\u00a0, bk', false)",
			"NO-BREAK SPACE: pgmantle trims it (staging); PostgreSQL keeps it in the name (no such schema), so bk is searched.")
		pathBypass(t, nil, "SELECT set_config('search_path', '\u0085staging, bk', false)",
			"NEL (U+0085): trimmed by pgmantle, part of the name for PostgreSQL.")
		pathBypass(t, nil, "SELECT set_config('search_path', 'staging\v, bk', false)",
			"vertical tab: trimmed by pgmantle, part of the name for PostgreSQL 15.")
		pathBypass(t, nil, "SELECT set_config('search_path', '\"bk\"\r, staging', false)",
			"CR after a quoted name: pgmantle appends it to the name (bk\\r, no such schema, so staging); PostgreSQL skips it (bk).")
		pathBypass(t, nil, "SELECT set_config('search_path', '\f\"bk\", staging', false)",
			"FF before a quoted name: same, at the start.")
	})

	// F4. constString accepts a cast to name, which truncates the value to
	// 63 bytes before set_config sees it; pgmantle uses the whole literal.
	t.Run("F4_name_cast_truncates_the_value", func(t *testing.T) {
		pathBypass(t, nil, "SELECT set_config('search_path', '"+strings.Repeat(" ", 61)+"bkx, staging'::name, false)",
			"PostgreSQL's value is 61 spaces + 'bk' (search_path bk); pgmantle's is bkx, staging.")
	})

	// F5. SQL PREPARE of a set_config is now admitted (analyze.go's
	// PrepareStmt case analyses the query with a.statement, which takes the
	// set_config branch), but State.apply only tracks a SelectStmt node at
	// the top level: neither PREPARE nor EXECUTE adds the search_path.
	// Before this change PREPARE could not hold any statement that changes
	// search_path (PREPARE ... AS SET is a syntax error).
	t.Run("F5_PREPARE_EXECUTE_untracked", func(t *testing.T) {
		// Fixed: set_config in a prepared statement is refused.
		s := newSCSession(t, env)
		s.run("SET search_path = staging")
		if r := s.run("PREPARE review_p AS SELECT set_config('search_path', 'bk', false)"); r == "" {
			t.Error("PREPARE of a set_config allowed: EXECUTE would change search_path untracked")
		}
	})

	// F6. setconfig.go compares identifiers case-insensitively (lower),
	// but PostgreSQL only folds unquoted identifiers, which the parser has
	// already done: a quoted "SET_CONFIG", "PG_CATALOG", "PG_SETTINGS",
	// "TEXT" or "BOOL" names a different object. setConfigResolves only
	// looks for set_config / pg_settings in lower case, and nothing looks
	// at the cast types. pgmantle admits the statement as a SET (no function
	// allow-list, no relation check, its one column passed as clean:
	// resultmask/session.go lets a !OutputsExact, !OutputsUnknown column
	// through unmasked); PostgreSQL runs user code that reads bk.contacts.
	t.Run("F6_quoted_names_and_cast_types_run_user_code", func(t *testing.T) {
		renv := scReviewEnv(t)
		rconn := scPG(t, "setconfig_review")
		ctx := scCtx(t)
		check := func(setup []string, sql, why string) { t.Helper(); scUserCode(t, renv, rconn, setup, sql, why) }
		check(nil, `SELECT "SET_CONFIG"('application_name', 'x', false)`,
			`public."SET_CONFIG" is not pg_catalog.set_config; setConfigResolves looks for "set_config" only.`)
		check(nil, `SELECT "PG_CATALOG".set_config('application_name', 'x', false)`,
			`schema "PG_CATALOG" is a user schema (the pg_ prefix check is case-sensitive); a two-part name is trusted outright.`)
		check(nil, `SELECT set_config('application_name', 'x'::"TEXT", false)`,
			`"TEXT" is a domain whose CHECK calls a user function; plainCast compares type names case-insensitively.`)
		check(nil, `SELECT set_config('application_name', 'x', false::"BOOL")`,
			`the same with the is_local cast.`)

		// "PG_SETTINGS" is a user view over bk.contacts.name: the guard
		// becomes a predicate on a person_name column that pgmantle never
		// sees. The row exists -> set_config('张伟明', ...) fails
		// (unrecognized parameter); no row -> SELECT 0: an existence oracle.
		s := newSCSession(t, renv)
		hit := `SELECT set_config(name, 'x', false) FROM "PG_SETTINGS" WHERE name = '张伟明'`
		miss := `SELECT set_config(name, 'x', false) FROM "PG_SETTINGS" WHERE name = '无此人'`
		r1, r2 := s.run(hit), s.run(miss)
		if _, err := rconn.Exec(ctx, "RESET ALL"); err != nil {
			t.Fatal(err)
		}
		if _, err := rconn.Exec(ctx, "SET ROLE analyst"); err != nil {
			t.Fatal(err)
		}
		_, errHit := rconn.Exec(ctx, hit)
		_, errMiss := rconn.Exec(ctx, miss)
		if _, err := rconn.Exec(ctx, "RESET ROLE"); err != nil {
			t.Fatal(err)
		}
		if r1 == "" && r2 == "" && errHit != nil && errMiss == nil {
			t.Errorf("BYPASS: pgmantle admits %q and %q as SETs; in PostgreSQL they read the user view \"PG_SETTINGS\" over bk.contacts.name "+
				"and differ (error %q vs success): an oracle on protected names", hit, miss, errHit)
		} else {
			t.Logf("not reproduced: refusals %q %q; PostgreSQL errors %v / %v", r1, r2, errHit, errMiss)
		}
	})

	// F7. setConfigResolves stops at pg_catalog, but PostgreSQL's function
	// resolution considers the set_config of every schema in the path and
	// picks the best match: a user set_config after pg_catalog wins when
	// its signature fits the arguments better. (Same consequence as F6.)
	t.Run("F7_overload_after_pg_catalog_runs_user_code", func(t *testing.T) {
		renv := scReviewEnv(t)
		rconn := scPG(t, "setconfig_review")
		check := func(setup []string, sql, why string) { t.Helper(); scUserCode(t, renv, rconn, setup, sql, why) }
		// Overload resolution (no quoting needed). setConfigResolves stops at pg_catalog, but PostgreSQL
		// picks the best-matching set_config of every schema in the path:
		// with is_local as a string literal ('false', which constBool
		// accepts) all three arguments are unknown and the string category
		// wins, so public.set_config(text, text, text) beats
		// pg_catalog.set_config(text, text, boolean) although public comes
		// after pg_catalog; a ::name cast (which constString accepts) makes
		// public.set_config(name, text, boolean) an exact match.
		check(nil, `SELECT set_config('application_name', 'x', 'false')`,
			`public.set_config(text, text, text), after pg_catalog in the path, is PostgreSQL's choice for all-unknown arguments.`)
		check(nil, `SELECT set_config(name, 'x', 'off') FROM pg_settings WHERE name = 'application_name'`,
			`the same in pg_dump's guarded form.`)
		check(nil, `SELECT set_config('application_name'::name, 'x', false)`,
			`public.set_config(name, text, boolean) matches the ::name argument exactly.`)
		// The cast types likewise: plainCast accepts "text" without looking
		// at the path; with pg_catalog placed after public, text is
		// public.text.
		check([]string{"SET search_path = public, pg_catalog"},
			`SELECT pg_catalog.set_config('application_name', 'x'::text, false)`,
			`with pg_catalog placed after public, text is public.text (a domain with a user CHECK); plainCast does not look at the path.`)
	})
}

// TestSetConfigReviewHolds: probes that are correctly refused or tracked.
func TestSetConfigReviewHolds(t *testing.T) {
	env, _ := testEnv(t)
	conn := scPG(t, "analysis")

	t.Run("refused_settings", func(t *testing.T) {
		for _, sql := range []string{
			"SELECT set_config('ROLE', 'bookkeeper', false)",
			"SELECT set_config('Role', 'bookkeeper', true)",
			"SELECT pg_catalog.set_config('role', 'none', false)",
			"SELECT set_config('Session_Authorization', 'bookkeeper', false)",
			"SELECT set_config('SESSION_AUTHORIZATION', 'bookkeeper', 'on')",
			"SELECT set_config('Client_Encoding', 'GBK', false)",
			"SELECT set_config('client_encoding', 'SQL_ASCII', true)",
			"SELECT set_config('Standard_Conforming_Strings', 'off', false)",
			"SELECT set_config('Enable_HashAgg', 'off', false)",
			"SELECT set_config('ENABLE_SEQSCAN', 'off', 'true')",
			"SELECT set_config('enable_sort', 'off'::text, 'false'::bool)",
			"SELECT set_config(name, 'bookkeeper', false) FROM pg_settings WHERE name = 'role'",
			"SELECT set_config(name, 'off', false) FROM pg_settings WHERE name = 'enable_hashagg'",
			"SELECT set_config(name, 'GBK', false) FROM pg_catalog.pg_settings WHERE name = 'client_encoding'",
			"SELECT set_config('role'::name, 'bookkeeper'::varchar, false)",
			"SELECT set_config(E'rol\\x65', 'bookkeeper', false)",
			"SELECT set_config(U&'r\\006fle', 'bookkeeper', false)",
			"SELECT set_config($$role$$, 'bookkeeper', false)",
			"PREPARE review_r AS SELECT set_config('role', 'bookkeeper', false)",
			"PREPARE review_e AS SELECT set_config('enable_sort', 'off', false)",
		} {
			if r := newSCSession(t, env).run(sql); r == "" {
				t.Errorf("%s allowed", sql)
			}
		}
	})

	t.Run("refused_shapes", func(t *testing.T) {
		for _, sql := range []string{
			"WITH x AS (SELECT set_config('search_path', 'bk', false)) SELECT * FROM x",
			"WITH x AS (SELECT 1) SELECT set_config('search_path', 'bk', false)",
			"SELECT * FROM (SELECT set_config('search_path', 'bk', false)) s",
			"SELECT (SELECT set_config('search_path', 'bk', false))",
			"SELECT set_config('search_path', 'bk', false) UNION ALL SELECT 'x'",
			"SELECT set_config('search_path', 'bk', false) ORDER BY 1",
			"SELECT set_config('search_path', 'bk', false) LIMIT 1",
			"SELECT set_config('search_path', 'bk', false) OFFSET 0",
			"SELECT DISTINCT set_config('search_path', 'bk', false)",
			"SELECT DISTINCT ON (1) set_config('search_path', 'bk', false)",
			"SELECT set_config('search_path', 'bk', false) INTO review_t",
			"SELECT set_config('search_path', 'bk', false) FOR UPDATE",
			"SELECT set_config('search_path', 'bk', false) WHERE true",
			"SELECT set_config('search_path', 'bk', false) GROUP BY 1",
			"SELECT set_config('search_path', 'bk', false) HAVING true",
			"SELECT set_config('search_path', 'bk', false), set_config('role', 'x', false)",
			"SELECT set_config('search_path', 'bk', false) FROM pg_settings",
			"SELECT set_config('search_path', 'bk', false) FROM pg_settings WHERE name = 'search_path'",
			"SELECT set_config(name, 'bk', false) FROM pg_settings",
			"SELECT set_config(name, 'bk', false) FROM pg_settings WHERE name = 'search_path' AND setting <> ''",
			"SELECT set_config(name, 'bk', false) FROM pg_settings WHERE name = 'search_path' OR true",
			"SELECT set_config(name, 'bk', false) FROM pg_settings WHERE 'search_path' = name",
			"SELECT set_config(name, 'bk', false) FROM pg_settings WHERE pg_settings.name = 'search_path'",
			"SELECT set_config(pg_settings.name, 'bk', false) FROM pg_settings WHERE name = 'search_path'",
			"SELECT set_config(name, 'bk', false) FROM ONLY pg_settings WHERE name = 'search_path'",
			"SELECT set_config(name, 'bk', false) FROM pg_settings AS pg_settings WHERE name = 'search_path'",
			"SELECT set_config(name, 'bk', false) FROM public.pg_settings WHERE name = 'search_path'",
			"SELECT set_config(name, 'bk', false) FROM pg_settings, bk.contacts WHERE name = 'search_path'",
			"SELECT set_config(name, 'bk', false) FROM bk.contacts WHERE name = 'search_path'",
			"SELECT set_config(name, 'bk', false) FROM pg_settings WHERE name = 'search_path' COLLATE \"C\"",
			"SELECT set_config(name, 'bk', false) FROM pg_settings WHERE name ILIKE 'search_path'",
			"SELECT set_config(name, 'bk', false) FROM pg_settings WHERE name = (SELECT 'search_path')",
			"SELECT set_config(name, 'bk', false) FROM pg_settings WHERE name = 'search_path' LIMIT 1",
			"SELECT set_config(name, 'bk', false) FROM pg_settings TABLESAMPLE SYSTEM (100) WHERE name = 'search_path'",
			"SELECT set_config(name, setting, false) FROM pg_settings WHERE name = 'search_path'",
			"DECLARE review_c CURSOR FOR SELECT set_config('search_path', 'bk', false)",
			"COPY (SELECT set_config('search_path', 'bk', false)) TO STDOUT",
			"EXPLAIN ANALYZE SELECT set_config('search_path', 'bk', false)",
			"EXPLAIN SELECT set_config('search_path', 'bk', false)",
			"CREATE VIEW review_v AS SELECT set_config('search_path', 'bk', false)",
			"CREATE TABLE review_t AS SELECT set_config('search_path', 'bk', false)",
			"DO $$BEGIN PERFORM set_config('search_path', 'bk', false); END$$",
			"INSERT INTO staging.contacts (note) SELECT set_config('search_path', 'bk', false)",
			"UPDATE staging.contacts SET note = set_config('search_path', 'bk', false)",
			"SELECT set_config(setting_name => 'search_path', new_value => 'bk', is_local => false)",
			"SELECT set_config('search_path', new_value => 'bk', is_local => false)",
			"SELECT set_config(VARIADIC ARRAY['search_path', 'bk', 'false'])",
			"SELECT set_config('search_path', 'bk', false) OVER ()",
			"SELECT set_config('search_path', 'bk' || '', false)",
			"SELECT set_config('search_path', NULL, false)",
			"SELECT set_config(NULL, 'bk', false)",
			"SELECT set_config('search_path', 'bk', NULL)",
			"SELECT set_config('search_path', 'bk'::varchar(5), false)",
			"SELECT set_config('search_path', 'bk'::bpchar, false)",
			"SELECT set_config('search_path', 'bk'::char(2), false)",
			"SELECT set_config('search_path', 'bk'::text[], false)",
			"SELECT set_config('search_path', 'bk'::text::text, false)",
			"SELECT set_config('search_path', 'bk'::regnamespace::text, false)",
			"SELECT set_config('search_path', CAST('bk' AS regclass)::text, false)",
			"SELECT set_config('search_path', current_setting('search_path'), false)",
			"SELECT set_config('search_path', current_user, false)",
			"SELECT set_config('search_path', (SELECT 'bk'), false)",
			"SELECT set_config('search_path', 'bk', 1::bool)",
			"SELECT set_config('search_path', 'bk', 'y')",
			"SELECT set_config('search_path', 'bk', 'tr')",
			"SELECT set_config('search_path', 'bk', ' on ')",
			"SELECT set_config('search_path', 'bk', 0 = 1)",
			"SELECT set_config('search_path', 'bk', false) COLLATE \"C\"",
			"SELECT set_config('search_path', 'bk' COLLATE \"C\", false)",
			"SELECT public.set_config('search_path', 'bk', false)",
			"SELECT bk.set_config('search_path', 'bk', false)",
			"SELECT analysis.pg_catalog.set_config('search_path', 'bk', false)",
			"SELECT pg_catalog.set_config('search_path', 'bk') ",
			"SELECT set_config('search_path', 'bk', false, 1)",
			"SELECT set_config('search_path', 'bk', false)::text",
			"SELECT set_config('search_path', 'bk', false) IS NULL",
			"SELECT ROW(set_config('search_path', 'bk', false))",
			"SELECT current_setting('search_path'), set_config('search_path', 'bk', false)",
			"VALUES (set_config('search_path', 'bk', false))",
			"TABLE pg_settings",
		} {
			if r := newSCSession(t, env).run(sql); r == "" {
				t.Errorf("%s allowed", sql)
			}
		}
	})

	// Differential: for each value, the search_path PostgreSQL really has
	// after set_config is one of those pgmantle tracks, and the probe is
	// refused whenever PostgreSQL resolves contacts to bk.contacts.
	t.Run("tracked_values_match_postgres", func(t *testing.T) {
		long := strings.Repeat("x", 70)
		longU := strings.Repeat("é", 40) // 80 bytes: truncated to 62, not mid-character
		for _, sql := range []string{
			"SELECT set_config('search_path', 'bk', false)",
			"SELECT set_config('search_path', 'BK', false)",
			"SELECT set_config('search_path', 'Bk, staging', false)",
			"SELECT set_config('search_path', '\"BK\", staging', false)",
			"SELECT set_config('search_path', '\"bk\", staging', false)",
			"SELECT set_config('search_path', '\"Bk\", staging', false)",
			"SELECT set_config('search_path', 'staging, \"bk\"', false)",
			"SELECT set_config('search_path', '\"$user\", bk', false)",
			"SELECT set_config('search_path', '$user, bk', false)",
			"SELECT set_config('search_path', '$USER, staging', false)",
			"SELECT set_config('search_path', '', false)",
			"SELECT set_config('search_path', '   ', false)",
			"SELECT set_config('search_path', '\"\", bk', false)",
			"SELECT set_config('search_path', ' bk ,\tstaging\n', false)",
			"SELECT set_config('search_path', 'bk\r, staging', false)",
			"SELECT set_config('search_path', '\rbk,\fstaging\f', false)",
			"SELECT set_config('search_path', '\"bk\"\t,\n\"staging\"', false)",
			"SELECT set_config('search_path', '\"bk, staging\", staging', false)",
			"SELECT set_config('search_path', '\"b\"\"k\", bk', false)",
			"SELECT set_config('search_path', 'pg_catalog, bk', false)",
			"SELECT set_config('search_path', 'bk, pg_catalog', false)",
			"SELECT set_config('search_path', 'PG_CATALOG, staging', false)",
			"SELECT set_config('search_path', 'pg_temp, bk', false)",
			"SELECT set_config('search_path', '" + long + ", bk', false)",
			"SELECT set_config('search_path', '\"" + long + "\", staging', false)",
			"SELECT set_config('search_path', '" + longU + ", bk', false)",
			"SELECT set_config('Search_Path', 'bk', false)",
			"SELECT set_config('SEARCH_PATH', 'staging', 'off')",
			"SELECT pg_catalog.set_config('search_path', 'bk', 'f')",
			"SELECT PG_CATALOG.SET_CONFIG('search_path', 'bk', FALSE)",
			"SELECT set_config('search_path'::text, 'bk'::varchar, false::boolean)",
			"SELECT set_config('search_path', 'bk'::pg_catalog.text, 'no'::pg_catalog.bool)",
			"SELECT set_config('search_path', E'\\x62k', false)",
			"SELECT set_config('search_path', E'b\\153, staging', false)",
			"SELECT set_config('search_path', U&'\\0062k', false)",
			"SELECT set_config('search_path', $$bk$$, false)",
			"SELECT set_config('search_path', $q$\"bk\", staging$q$, false)",
			"SELECT set_config('search_path', 'b'\n'k', false)",
			"SELECT set_config('search_path', 'bk', false) AS anything",
			"SELECT (set_config('search_path', 'bk', false))", // the same parse tree
			"SELECT set_config(name, 'bk', false) FROM pg_settings WHERE name = 'search_path'",
			"SELECT pg_catalog.set_config(NAME, 'bk, staging', FALSE) FROM PG_CATALOG.PG_SETTINGS WHERE NAME = 'search_path'",
			"SELECT set_config(name, 'bk', false) FROM pg_settings WHERE name = 'search_path'::text",
		} {
			s := newSCSession(t, env)
			if r := s.run(sql); r != "" {
				t.Logf("refused (fail closed): %s: %s", sql, r)
				continue
			}
			real, contacts, err := pgReal(t, conn, nil, sql)
			if err != nil {
				t.Logf("PostgreSQL refuses %q (%v): nothing to track", sql, err)
				continue
			}
			tracked := trackedSchemas(t, conn, s.st)
			if !scContains(tracked, real) {
				t.Errorf("%s: PostgreSQL's search_path %q is not among pgmantle's %q (settings %q)", sql, real, tracked, s.st.SearchPaths())
			}
			if contacts == "bk" && s.probeAllowed() {
				t.Errorf("%s: contacts is bk.contacts in PostgreSQL, yet the probe is allowed", sql)
			}
		}
	})

	// Transactions, SET LOCAL, ROLLBACK, multi-statement Queries: a
	// set_config whose effect may or may not last leaves both paths
	// possible.
	t.Run("transactions_and_multi_statement", func(t *testing.T) {
		seqs := [][]string{
			{"SET search_path = staging", "BEGIN", "SELECT set_config('search_path', 'bk', true)"},
			{"SET search_path = staging", "BEGIN", "SELECT set_config('search_path', 'bk', false)", "ROLLBACK"},
			{"SET search_path = staging", "BEGIN", "SELECT set_config('search_path', 'bk', true)", "COMMIT"},
			{"SET search_path = staging", "SELECT set_config('search_path', 'bk', true)"},
			{"SET search_path = staging", "SELECT set_config('search_path', 'bk', false); SELECT 1"},
			{"SET search_path = staging", "BEGIN; SELECT set_config('search_path', 'bk', false); COMMIT"},
			{"SET search_path = bk", "SELECT set_config('search_path', 'staging', true)"},
			{"SET search_path = bk", "BEGIN", "SELECT set_config('search_path', 'staging', false)"},
			{"SET search_path = bk", "SELECT set_config('search_path', 'staging', false); SELECT 1"},
		}
		for _, seq := range seqs {
			s := newSCSession(t, env)
			inTx := false
			for _, q := range seq {
				// Statements after BEGIN are not sent while idle.
				if r := s.runAs(q, !inTx); r != "" {
					t.Fatalf("%q refused: %s", q, r)
				}
				if q == "BEGIN" {
					inTx = true
				}
			}
			if s.probeAllowed() {
				t.Errorf("%q: probe allowed; paths %q", seq, s.st.SearchPaths())
			}
		}
		// Same statement in one Query with the probe.
		s := newSCSession(t, env)
		s.run("SET search_path = staging")
		if r := s.run("SELECT set_config('search_path', 'bk', false); " + scProbe); r == "" {
			t.Error("set_config then probe in one Query allowed")
		}
		s = newSCSession(t, env)
		s.run("SET search_path = staging")
		if r := s.run("SELECT set_config('search_path', 'bk', true); " + scProbe); r == "" {
			t.Error("set_config LOCAL then probe in one Query allowed")
		}
		// Many changes before any is confirmed: bounded.
		s = newSCSession(t, env)
		s.run("BEGIN")
		var last string
		for _, p := range []string{"a", "b", "c", "d", "e", "f"} {
			s.st.Immediate = false
			a := parser.Analyze("SELECT set_config('search_path', '"+p+"', false)", env, s.st)
			last = parser.Decide(a.Statements[0], "analyst", s.rules, false).Refusal
		}
		if last == "" {
			t.Error("unbounded search_path changes via set_config allowed")
		}
	})

	// Extended protocol: a Parse of set_config makes its path possible at
	// once, and every Bind again (or is refused as stale).
	t.Run("extended_protocol", func(t *testing.T) {
		s := newSCSession(t, env)
		s.run("SET search_path = staging")
		s.st.Immediate = false
		a := parser.Analyze("SELECT set_config('search_path', 'bk', false)", env, s.st)
		st := a.Statements[0]
		if d := parser.Decide(st, "analyst", s.rules, false); d.Refusal != "" {
			t.Fatal(d.Refusal)
		}
		s.st.ParseAdmitted("review_s", st)
		s.st.Parsed("review_s", st)
		if s.probeAllowed() {
			t.Error("after Parse of set_config, probe allowed")
		}
		s.run("SET search_path = staging") // confirmed: collapses to staging
		if why := s.st.CheckBind("review_s"); why == "" && s.probeAllowed() {
			t.Error("Bind of a prepared set_config did not make its path possible")
		}
		// A parameter is not a constant: refused.
		a = parser.Analyze("SELECT set_config('search_path', $1, false)", env, s.st)
		if parser.Decide(a.Statements[0], "analyst", s.rules, false).Refusal == "" {
			t.Error("set_config with a bind parameter allowed")
		}
	})

	// Plan cache: a set_config of search_path is never cached (stateful),
	// and an allowed set_config never lends its plan to another setting.
	t.Run("cache", func(t *testing.T) {
		_, pol := testEnv(t)
		rules := pol.Resolve("analyst", nil)
		c := parser.NewCache(100)
		st := parser.NewState("analyst")
		st.SetInitialPath("staging")
		plan := func(sql string) *parser.Plan {
			st.Immediate = true
			p := c.Plan(sql, env, st, "analyst", rules, false)
			if p.Refusal() == "" {
				for _, d := range p.Statements {
					st.Completed(d.Statement)
				}
			}
			return p
		}
		plan("SELECT set_config('search_path', 'staging', false)")
		plan("SELECT set_config('search_path', 'staging', false)")
		if c.Len() != 0 {
			t.Errorf("a search_path set_config was cached (%d plans)", c.Len())
		}
		plan("SELECT set_config('search_path', 'bk', false)")
		if p := plan(scProbe); p.Refusal() == "" {
			t.Errorf("probe allowed after set_config to bk through the cache; paths %q", st.SearchPaths())
		}
		plan("SELECT set_config('application_name', 'x', false)")
		for _, sql := range []string{
			"SELECT set_config('role', 'x', false)",
			"SELECT set_config('client_encoding', 'x', false)",
			"SELECT set_config('enable_sort', 'x', false)",
			"SELECT set_config('standard_conforming_strings', 'x', false)",
		} {
			if plan(sql).Refusal() == "" {
				t.Errorf("%s allowed from the cache", sql)
			}
		}
		before := st.SearchPaths()
		plan("SELECT set_config('search_path', 'x', false)")
		if after := st.SearchPaths(); len(after) != 1 || after[0] != `"x"` {
			t.Errorf("set_config search_path after a cached application_name set_config: paths %q -> %q", before, after)
		}
		// Not a bypass, but a functional note: a refused variant cached
		// under the normalized key makes the allowed one refused too.
		c2 := parser.NewCache(100)
		st2 := parser.NewState("analyst")
		c2.Plan("SELECT set_config('statement_timeout', '5s', 'maybe')", env, st2, "analyst", rules, false)
		if r := c2.Plan("SELECT set_config('statement_timeout', '5s', 'false')", env, st2, "analyst", rules, false).Refusal(); r != "" {
			t.Logf("note (over-refusal, fail closed): a cached refused set_config variant refuses an allowed one: %s", r)
		}
	})

	// User-defined set_config / pg_settings in lower case placed before
	// pg_catalog are noticed.
	t.Run("lowercase_shadows", func(t *testing.T) {
		renv := scReviewEnv(t)
		s := newSCSession(t, renv)
		// A user set_config anywhere in the path (here after pg_catalog)
		// could be preferred for other argument types: refused.
		if r := s.run("SELECT set_config('application_name', 'x', false)"); r == "" {
			t.Errorf("pg_catalog first, public.set_config after it: allowed")
		}
		s.run("SET search_path = public, pg_catalog")
		for _, sql := range []string{
			"SELECT set_config('application_name', 'x', false)",
			"SELECT pg_catalog.set_config(name, 'bk', false) FROM pg_settings WHERE name = 'search_path'",
			"SELECT set_config(name, 'bk', false) FROM pg_catalog.pg_settings WHERE name = 'search_path'",
		} {
			if r := s.run(sql); r == "" {
				t.Errorf("%s allowed with public's shadow before pg_catalog", sql)
			}
		}
	})

	// The pg_settings guard is not taken for search_path (its SET may not
	// happen, yet it would be confirmed): refused.
	t.Run("guard_exact_name", func(t *testing.T) {
		s := newSCSession(t, env)
		s.run("SET search_path = bk")
		for _, sql := range []string{
			"SELECT set_config(name, 'staging', false) FROM pg_settings WHERE name = 'search_path'",
			"SELECT set_config(name, 'view', false) FROM pg_settings WHERE name = 'Restrict_Nonsystem_Relation_Kind'",
		} {
			if r := s.run(sql); r == "" {
				t.Errorf("%s allowed", sql)
			}
		}
		if r := s.run("SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name = 'restrict_nonsystem_relation_kind'"); r != "" {
			t.Errorf("pg_dump's guarded form refused: %s", r)
		}
	})
}
