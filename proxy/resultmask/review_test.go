package resultmask_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// rawAs logs in as user through the proxy and hands over the raw protocol.
func rawAs(t *testing.T, addr, db, user string) *pgproto3.Frontend {
	t.Helper()
	ctx := pgtest.Context(t)
	conn, err := pgconn.Connect(ctx, "postgres://"+user+":"+password+"@"+addr+"/"+db+"?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	hc, err := conn.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hc.Conn.Close() })
	return hc.Frontend
}

// readAll reads until n ReadyForQuery or the end, returning the text of
// every DataRow value and the SQLSTATEs of errors.
func readAll(t *testing.T, fe *pgproto3.Frontend, n int) (values []string, codes []string) {
	t.Helper()
	for n > 0 {
		m, err := fe.Receive()
		if err != nil {
			return
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			for _, v := range m.Values {
				values = append(values, string(v))
			}
		case *pgproto3.ErrorResponse:
			codes = append(codes, m.Code)
		case *pgproto3.ReadyForQuery:
			n--
		}
	}
	return
}

// TestStalePortalDescription: a portal name reused through SQL (CLOSE,
// DECLARE) must not keep the columns of what it named before.
func TestStalePortalDescription(t *testing.T) {
	addr, db := setup(t)
	fe := rawAs(t, addr, db, "analyst")
	send := func(msgs ...pgproto3.FrontendMessage) {
		for _, m := range msgs {
			fe.Send(m)
		}
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	send(&pgproto3.Query{String: "BEGIN"})
	readAll(t, fe, 1)
	send(&pgproto3.Parse{Name: "s1", Query: "SELECT name FROM bk.client_companies"},
		&pgproto3.Describe{ObjectType: 'S', Name: "s1"},
		&pgproto3.Bind{DestinationPortal: "c", PreparedStatement: "s1"},
		&pgproto3.Describe{ObjectType: 'P', Name: "c"},
		&pgproto3.Execute{Portal: "c", MaxRows: 1}, &pgproto3.Sync{})
	readAll(t, fe, 1)
	send(&pgproto3.Query{String: "CLOSE c; DECLARE c CURSOR FOR SELECT id_no, mobile FROM bk.contacts ORDER BY id"})
	readAll(t, fe, 1)
	send(&pgproto3.Execute{Portal: "c"}, &pgproto3.Sync{})
	values, codes := readAll(t, fe, 1)
	for _, v := range values {
		if strings.Contains(v, "19900307") || strings.Contains(v, "12345678") {
			t.Fatalf("raw value through a reused portal name: %q (errors %v)", values, codes)
		}
	}
	if len(values) == 0 && len(codes) == 0 {
		t.Fatal("neither rows nor an error")
	}
}

// TestIndirectStatementsRefused: results reached through statements that
// name no table (EXECUTE, FETCH), through Unicode-escaped names or through
// temporary functions, with columns of unknown origin, are refused.
func TestIndirectStatementsRefused(t *testing.T) {
	addr, db := setup(t)
	for name, steps := range map[string][]string{
		"EXECUTE":         {"PREPARE s AS SELECT id_no || '' FROM bk.contacts", "EXECUTE s"},
		"FETCH":           {"BEGIN", "DECLARE c CURSOR FOR SELECT id_no || '' FROM bk.contacts", "FETCH ALL FROM c"},
		"Unicode escape":  {`SELECT id_no || '' FROM bk.U&"cont\0061cts"`},
		"temp function":   {"CREATE FUNCTION pg_temp.g() RETURNS SETOF text LANGUAGE sql AS $$SELECT id_no FROM bk.contacts$$", "SELECT pg_temp.g()"},
		"notice payload":  {"DO $$BEGIN RAISE NOTICE '%', (SELECT string_agg(id_no, ',') FROM bk.contacts); END$$"},
		"error payload":   {"DO $$BEGIN RAISE EXCEPTION '%', (SELECT string_agg(id_no, ',') FROM bk.contacts); END$$"},
		"regrole message": {"SELECT c.id FROM bk.contacts c WHERE c.name::regrole IS NULL"},
		"ts_rewrite":      {"SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, quote_literal(id_no)::tsquery FROM bk.con' || 'tacts WHERE id = 1')::text"},
		"parked setting":  {"SELECT id FROM bk.contacts WHERE id = 1 AND set_config('my.w', name, false) <> ''", "SELECT current_setting('my.w')", "SHOW my.w"},
		"assert":          {"DO $$BEGIN ASSERT false, (SELECT id_no || name FROM bk.contacts WHERE id = 1); END$$"},
		"raise using":     {"DO $$BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '22000', HINT = (SELECT id_no FROM bk.contacts WHERE id = 1), COLUMN = (SELECT name FROM bk.contacts WHERE id = 1); END$$"},
		"embedded quotes": {`SELECT id FROM bk.contacts WHERE ('x"' || id_no || name || '"x')::int = 0`},
		"make_date":       {"SELECT id FROM bk.contacts WHERE id = 1 AND make_date(substr(id_no, 10, 9)::int, 13, 1) IS NULL"},
		"chr":             {"SELECT id FROM bk.contacts WHERE id = 1 AND chr(substr(id_no, 7, 8)::int) = ''"},
		"regoperator":     {"SELECT FROM bk.contacts WHERE id = 1 AND (id_no || name || '(int,int)')::regoperator IS NULL"},
		"dotted names":    {"SELECT id FROM bk.contacts WHERE id = 1 AND (id_no || '.a.b.c')::regclass IS NULL"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := pgx.ParseConfig("postgres://analyst:" + password + "@" + addr + "/" + db + "?sslmode=disable")
			if err != nil {
				t.Fatal(err)
			}
			var notices []string
			cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n.Message+n.Detail) }
			ctx := pgtest.Context(t)
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var all []string
			for _, sql := range steps {
				res, err := conn.PgConn().Exec(ctx, sql).ReadAll()
				for _, r := range res {
					for _, row := range r.Rows {
						for _, v := range row {
							all = append(all, string(v))
						}
					}
				}
				var pe *pgconn.PgError
				if errors.As(err, &pe) {
					all = append(all, pe.Message, pe.Detail, pe.Hint, pe.Where, pe.ColumnName, pe.TableName, pe.SchemaName, pe.DataTypeName, pe.ConstraintName)
				}
			}
			all = append(all, notices...)
			for _, v := range all {
				if strings.Contains(v, "19900307") || strings.Contains(v, "张伟") || strings.Contains(v, "3078032") {
					t.Fatalf("protected value reached the client: %q", v)
				}
			}
		})
	}
}

// TestStateChannelsRefused: statements through which a session could park
// protected values in state and read them back later never reach
// PostgreSQL; the session ends with 42501.
func TestStateChannelsRefused(t *testing.T) {
	addr, db := setup(t)
	for name, sql := range map[string]string{
		"LISTEN":              "LISTEN ch",
		"DO":                  "DO $$BEGIN PERFORM set_config('TimeZone', 'UTC', false); END$$",
		"set_config in WHERE": "SELECT id FROM bk.contacts WHERE id = 1 AND set_config('application_name', id_no, false) <> ''",
		"advisory lock":       "SELECT id FROM bk.contacts WHERE id = 1 AND pg_try_advisory_lock(id_no::bigint)",
		"temp table copy":     "CREATE TEMP TABLE t AS SELECT id_no, name FROM bk.contacts",
		"SELECT INTO":         "SELECT id_no INTO TEMP t2 FROM bk.contacts",
		"other sessions":      "SELECT application_name FROM pg_stat_get_activity(NULL)",
		"role settings":       "SELECT setconfig FROM pg_db_role_setting",
		"SET ROLE":            "SET ROLE bookkeeper",
		"EXPLAIN":             "EXPLAIN SELECT * FROM bk.contacts WHERE id_no = '1'",
		"unparseable":         "SELEC id_no FROM bk.contacts",
	} {
		t.Run(name, func(t *testing.T) {
			conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
			_, err := conn.Exec(pgtest.Context(t), sql)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" {
				t.Fatalf("got %v, want 42501", err)
			}
		})
	}
	// The refused statements never ran: no temp table exists for the role.
	conn := connectAs(t, addr, db, "bookkeeper", pgx.QueryExecModeSimpleProtocol)
	if got := textRows(t, conn, "SELECT count(*) FROM pg_class WHERE relname IN ('t', 't2') AND relpersistence = 't'"); got[0][0] != "0" {
		t.Fatalf("a refused statement ran: %v", got)
	}
}

// TestFunctionCallRefused: the FunctionCall message is refused for
// restricted roles.
func TestFunctionCallRefused(t *testing.T) {
	addr, db := setup(t)
	fe := rawAs(t, addr, db, "analyst")
	fe.Send(&pgproto3.FunctionCall{Function: 177, ArgFormatCodes: []uint16{1},
		Arguments: [][]byte{{0, 0, 0, 40}, {0, 0, 0, 2}}, ResultFormatCode: 1})
	fe.Flush()
	if _, codes := readAll(t, fe, 1); len(codes) != 1 || codes[0] != "42501" {
		t.Fatalf("got errors %v, want 42501", codes)
	}
}

// TestRedefinedStatementText: a statement or portal name redefined through
// SQL no longer carries the text it was prepared with, so computed columns
// of what it now names are refused.
func TestRedefinedStatementText(t *testing.T) {
	addr, db := setup(t)
	for name, redefine := range map[string]struct {
		prepare []pgproto3.FrontendMessage
		sql     string
		exec    []pgproto3.FrontendMessage
	}{
		"statement": {
			prepare: []pgproto3.FrontendMessage{&pgproto3.Parse{Name: "s", Query: "SELECT 'hello'::text AS x"}, &pgproto3.Sync{}},
			sql:     "DEALLOCATE s; PREPARE s AS SELECT id_no || ' ' || name AS x FROM bk.contacts",
			exec:    []pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "s"}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		},
		"portal": {
			prepare: []pgproto3.FrontendMessage{&pgproto3.Query{String: "BEGIN"},
				&pgproto3.Parse{Name: "h", Query: "SELECT 'hello'::text"}, &pgproto3.Bind{DestinationPortal: "c", PreparedStatement: "h"}, &pgproto3.Sync{}},
			sql:  "CLOSE c; DECLARE c CURSOR FOR SELECT id_no || ' ' || name FROM bk.contacts",
			exec: []pgproto3.FrontendMessage{&pgproto3.Describe{ObjectType: 'P', Name: "c"}, &pgproto3.Execute{Portal: "c"}, &pgproto3.Sync{}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fe := rawAs(t, addr, db, "analyst")
			send := func(msgs ...pgproto3.FrontendMessage) {
				for _, m := range msgs {
					fe.Send(m)
				}
				fe.Flush()
			}
			send(redefine.prepare...)
			n := 0
			for _, m := range redefine.prepare {
				if _, ok := m.(*pgproto3.Sync); ok {
					n++
				} else if _, ok := m.(*pgproto3.Query); ok {
					n++
				}
			}
			readAll(t, fe, n)
			send(&pgproto3.Query{String: redefine.sql})
			readAll(t, fe, 1)
			send(redefine.exec...)
			values, _ := readAll(t, fe, 1)
			for _, v := range values {
				if strings.Contains(v, "19900307") || strings.Contains(v, "张伟") {
					t.Fatalf("raw value through a redefined name: %q", values)
				}
			}
		})
	}
}
