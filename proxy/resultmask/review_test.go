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
					all = append(all, pe.Message, pe.Detail, pe.Hint, pe.Where)
				}
			}
			all = append(all, notices...)
			for _, v := range all {
				if strings.Contains(v, "19900307") || strings.Contains(v, "张伟") {
					t.Fatalf("protected value reached the client: %q", v)
				}
			}
		})
	}
}

// TestAsyncChannelsScrubbed: NOTIFY payloads and ParameterStatus values a
// restricted session fills with protected data do not reach it.
func TestAsyncChannelsScrubbed(t *testing.T) {
	addr, db := setup(t)
	ctx := pgtest.Context(t)
	conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	exec := func(sql string) {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("LISTEN ch")
	exec("DO $$BEGIN PERFORM pg_notify('ch', (SELECT id_no FROM bk.contacts WHERE id = 1)); END$$")
	n, err := conn.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Channel != "ch" || strings.Contains(n.Payload, "3101") {
		t.Fatalf("notification %q payload %q", n.Channel, n.Payload)
	}
	exec("DO $$BEGIN PERFORM set_config('application_name', (SELECT id_no FROM bk.contacts WHERE id = 1), false); END$$")
	if v := conn.PgConn().ParameterStatus("application_name"); strings.Contains(v, "3101") {
		t.Fatalf("application_name reported as %q", v)
	}
	// Safe parameters still pass.
	exec("SET TimeZone = 'Asia/Shanghai'")
	if v := conn.PgConn().ParameterStatus("TimeZone"); v != "Asia/Shanghai" {
		t.Fatalf("TimeZone reported as %q", v)
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
