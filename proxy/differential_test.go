package proxy_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/proxy"
)

// The differential tests run the same exchanges directly against
// PostgreSQL and through the proxy and require byte-identical answers.

// identity is an interceptor that takes every result set and rewrites no
// value: rows are decoded and re-encoded, and the proxy injects Describes.
type identity struct{}

func (identity) Result(*proxy.ResultSet) (proxy.RowRewriter, error) { return identityRows{}, nil }

type identityRows struct{}

func (identityRows) RewriteRow([][]byte) error { return nil }

// proxyVariants are the proxy configurations the differential tests run
// against: the fast path, and with an interceptor that changes nothing.
var proxyVariants = []struct {
	name      string
	configure func(*proxy.Server)
}{
	{"fast_path", nil},
	{"identity_interceptor", func(s *proxy.Server) {
		s.Intercept = func(*proxy.SessionInfo) (proxy.Interceptor, error) { return identity{}, nil }
	}},
}

// wireMsg is one backend message as received: type byte, length, body.
type wireMsg []byte

func (m wireMsg) typ() byte { return m[0] }

func (m wireMsg) String() string {
	if len(m) > 80 {
		return fmt.Sprintf("%c(%d bytes) %q...", m[0], len(m)-5, []byte(m[5:80]))
	}
	return fmt.Sprintf("%c %q", m[0], []byte(m[5:]))
}

// wireConn speaks the protocol at the byte level.
type wireConn struct {
	tb   testing.TB
	conn net.Conn
	br   *bufio.Reader
}

// dialWire connects and logs in as the superuser (trust) with fixed startup
// parameters, returning the messages of the startup phase.
func dialWire(tb testing.TB, addr string) (*wireConn, []wireMsg) {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	c := &wireConn{tb: tb, conn: conn, br: bufio.NewReader(conn)}
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{
		"user": "postgres", "database": "postgres", "application_name": "pgmantle-differential",
		"client_encoding": "UTF8", "DateStyle": "ISO, MDY", "extra_float_digits": "3",
	}})
	return c, c.readUntil('Z', 1)
}

// with returns c reporting failures to tb (a subtest).
func (c *wireConn) with(tb testing.TB) *wireConn {
	cc := *c
	cc.tb = tb
	return &cc
}

func (c *wireConn) send(msgs ...pgproto3.FrontendMessage) {
	c.tb.Helper()
	var buf []byte
	for _, m := range msgs {
		var err error
		if buf, err = m.Encode(buf); err != nil {
			c.tb.Fatal(err)
		}
	}
	c.conn.SetWriteDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.conn.Write(buf); err != nil {
		c.tb.Fatal(err)
	}
}

func (c *wireConn) read() wireMsg {
	c.tb.Helper()
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var hdr [5]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	m := make(wireMsg, 1+n)
	copy(m, hdr[:])
	if _, err := io.ReadFull(c.br, m[5:]); err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	return m
}

// readUntil reads messages up to and including the n-th of type typ.
func (c *wireConn) readUntil(typ byte, n int) []wireMsg {
	c.tb.Helper()
	var out []wireMsg
	for n > 0 {
		m := c.read()
		out = append(out, m)
		if m.typ() == typ {
			n--
		}
		if m.typ() == 'E' && typ != 'Z' && typ != 'E' {
			c.tb.Fatalf("unexpected error %v while waiting for %c", m, typ)
		}
	}
	return out
}

// query sends a simple Query and reads its answer.
func (c *wireConn) query(sql string) []wireMsg {
	c.send(&pgproto3.Query{String: sql})
	return c.readUntil('Z', 1)
}

// normalizeWire blanks what legitimately differs between two sessions: the
// notifying backend's pid in NotificationResponse.
func normalizeWire(msgs []wireMsg) []wireMsg {
	out := make([]wireMsg, len(msgs))
	for i, m := range msgs {
		if m.typ() == 'A' {
			m = append(wireMsg(nil), m...)
			binary.BigEndian.PutUint32(m[5:], 0)
		}
		out[i] = m
	}
	return out
}

// messageTypes summarizes a message sequence by type, runs collapsed
// ("D*25").
func messageTypes(msgs []wireMsg) string {
	var b strings.Builder
	for i := 0; i < len(msgs); {
		j := i
		for j < len(msgs) && msgs[j].typ() == msgs[i].typ() {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(msgs[i].typ())
		if j-i > 1 {
			fmt.Fprintf(&b, "*%d", j-i)
		}
		i = j
	}
	return b.String()
}

func compareWire(t *testing.T, direct, proxied []wireMsg) {
	t.Helper()
	direct, proxied = normalizeWire(direct), normalizeWire(proxied)
	t.Logf("%d messages: %s", len(direct), messageTypes(direct))
	for i := 0; i < len(direct) || i < len(proxied); i++ {
		var d, p wireMsg
		if i < len(direct) {
			d = direct[i]
		}
		if i < len(proxied) {
			p = proxied[i]
		}
		if !bytes.Equal(d, p) {
			t.Fatalf("message %d differs:\n direct:  %v\n proxied: %v\n(%d messages directly, %d through the proxy)",
				i, d, p, len(direct), len(proxied))
		}
	}
}

// diffSQL are single statements that run in the simple protocol and in the
// extended protocol with text and binary results.
var diffSQL = []string{
	`SELECT 1::int2 AS a, 2::int4, 3::int8, -1.5::float4, 2.25::float8, 1e300::float8, 'Infinity'::float8, 'NaN'::float4,
		123.456::numeric, '-0.000001'::numeric(20,10), 'NaN'::numeric, 123456789012345678901234567890::numeric`,
	`SELECT 'abc'::text, 'x'::varchar(5), 'c'::char(3), 'ünï☃'::text, ''::text, NULL::text, true, false, NULL::bool, 'a'::"char", 'nm'::name`,
	`SELECT '\xdeadbeef00ff'::bytea, ''::bytea, decode(repeat('00ff', 3000), 'hex')`,
	`SELECT '2024-02-29 13:14:15.123456+00'::timestamptz, '2024-02-29 13:14:15'::timestamp, '2024-02-29'::date, '12:34:56.789'::time,
		'12:34+02'::timetz, interval '1 year 2 mons 3 days 04:05:06.7', 'infinity'::timestamptz, '-infinity'::date`,
	`SELECT '{1,2,3}'::int4[], '{{1,2},{3,4}}'::int8[], '{"a","b c",NULL,""}'::text[], '{}'::int4[], ARRAY[NULL]::numeric[], '{t,f}'::bool[]`,
	`SELECT '{"k": [1, 2.5, "x", null, true]}'::jsonb, '{"k":1, "k":2}'::json, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,
		'192.168.0.1/24'::inet, '10.0.0.0/8'::cidr, '08:00:2b:01:02:03'::macaddr, point(1.5, -2), '[1,10)'::int8range,
		'(1,2),(3,4)'::box, B'10101'::bit(5), B'11'::varbit, 'a & b'::tsquery, 'fat cat'::tsvector, 12.5::money, 16384::oid,
		'pg_class'::regclass, 'int4'::regtype, '<a>x</a>'::xml`,
	`SELECT i, md5(i::text), i * 1.5 AS f, CASE WHEN i % 3 = 0 THEN NULL ELSE repeat('r', i) END FROM generate_series(1, 2000) i`,
	`SELECT repeat('big', 40000) AS t, 1 AS n`,
	`SELECT row(1, 'a', NULL)::record, (1, 2.5)`,
	`SELECT 1 WHERE false`,
	`SELECT`,
	`VALUES (1, 'one'), (2, 'two')`,
	`SELECT relname FROM pg_class WHERE relname = 'pg_class'`,
	`SELECT 1/0`,
	`SELECT 'x'::int`,
	`SELEC 1`,
	`SELECT * FROM does_not_exist_anywhere`,
	`SELECT 1 +`,
	`SELECT repeat('x', 10)::varchar(5)::int`,
	`SELECT pg_catalog.set_config('application_name', 'diff-set', false)`,
	`SET application_name = 'diff-set-2'`,
	`SHOW server_version_num`,
	`DO $$BEGIN RAISE NOTICE 'notice %', 1; RAISE WARNING 'warning' USING DETAIL = 'd', HINT = 'h', ERRCODE = '01P01'; END$$`,
	`DO $$BEGIN RAISE EXCEPTION 'custom' USING ERRCODE = 'P0001', DETAIL = 'dd', HINT = 'hh', COLUMN = 'c', CONSTRAINT = 'k', TABLE = 't'; END$$`,
	`DROP TABLE IF EXISTS does_not_exist_anywhere`,
	`SELECT 'a'::text COLLATE "C" < 'b'`,
}

// diffScripts are simple-Query exchanges (one Query per element) with
// several statements, transactions and COPY TO.
var diffScripts = [][]string{
	{`SELECT 1; SELECT 'a', 'b'; SELECT 2 WHERE false; VALUES (3)`},
	{`SELECT 1; SELECT 1/0; SELECT 'never'`},
	{`CREATE TEMP TABLE tt (a int, b text); INSERT INTO tt SELECT i, 'v' || i FROM generate_series(1, 100) i; UPDATE tt SET b = 'u' WHERE a < 10; DELETE FROM tt WHERE a > 90; SELECT a + 0, b || '' FROM tt ORDER BY a`},
	{``},
	{`;`},
	{`SELECT 1;;; SELECT 2;`},
	{`BEGIN`, `SELECT 1`, `SELECT 1/0`, `SELECT 2`, `ROLLBACK`, `SELECT 3`},
	{`BEGIN; SELECT 1; COMMIT; BEGIN; SELECT 1/0; COMMIT`, `SELECT 'after'`},
	{`BEGIN`, `SAVEPOINT s`, `SELECT 1/0`, `ROLLBACK TO s`, `SELECT 'recovered'`, `COMMIT`},
	{`COPY (SELECT i, 'x' || i, NULL FROM generate_series(1, 500) i) TO STDOUT`},
	{`COPY (SELECT i, repeat('y', 20000) FROM generate_series(1, 5) i) TO STDOUT WITH (FORMAT csv, HEADER)`},
	{`COPY (SELECT i, now()::date - now()::date FROM generate_series(1, 50) i) TO STDOUT (FORMAT binary)`},
	{`COPY (SELECT 1) TO STDOUT; SELECT 2; COPY (SELECT 3) TO STDOUT`},
	{`COPY pg_class TO STDOUT WITH (FORMAT does_not_exist)`},
	{`DECLARE c BINARY CURSOR WITH HOLD FOR SELECT i, i::numeric / 7, 'txt' || i FROM generate_series(1, 300) i`, `FETCH 100 FROM c`, `FETCH ALL FROM c`, `FETCH 1 FROM c`, `CLOSE c`},
	{`LISTEN diffchan`, `NOTIFY diffchan, 'payload'`, `SELECT pg_notify('diffchan', 'second')`, `UNLISTEN *`},
	{`SET TimeZone = 'America/New_York'`, `SELECT '2024-07-01 12:00:00+00'::timestamptz`, `RESET TimeZone`, `SET DateStyle = 'German'`, `SELECT '2024-07-01'::date`, `RESET DateStyle`},
	{`PREPARE p(int) AS SELECT $1 * 2`, `EXECUTE p(21)`, `DEALLOCATE p`, `EXECUTE p(1)`},
	{`SET client_min_messages = debug1`, `DO $$BEGIN RAISE DEBUG 'dbg'; RAISE INFO 'info'; RAISE LOG 'log'; END$$`, `RESET client_min_messages`},
}

func TestDifferentialSimpleQuery(t *testing.T) {
	t.Parallel()
	for _, v := range proxyVariants {
		t.Run(v.name, func(t *testing.T) { differentialSimpleQuery(t, v.configure) })
	}
}

func differentialSimpleQuery(t *testing.T, configure func(*proxy.Server)) {
	p := startProxy(t, configure)
	c := pgtest.Cluster(t)
	direct, dStart := dialWire(t, c.Addr())
	proxied, pStart := dialWire(t, p.addr)
	compareStartup(t, dStart, pStart)

	for i, sql := range diffSQL {
		t.Run(fmt.Sprintf("sql%02d", i), func(t *testing.T) {
			compareWire(t, direct.with(t).query(sql), proxied.with(t).query(sql))
		})
	}
	for i, script := range diffScripts {
		t.Run(fmt.Sprintf("script%02d", i), func(t *testing.T) {
			// One session after the other, so that notifications of one
			// never reach the other.
			run := func(c *wireConn) (out []wireMsg) {
				for _, q := range script {
					out = append(out, c.with(t).query(q)...)
				}
				return out
			}
			compareWire(t, run(direct), run(proxied))
		})
	}
}

// compareStartup checks the startup phase: the same authentication and
// parameter messages; the BackendKeyData is the proxy's own.
func compareStartup(t *testing.T, direct, proxied []wireMsg) {
	t.Helper()
	filter := func(msgs []wireMsg, typ byte) []string {
		var out []string
		for _, m := range msgs {
			if m.typ() == typ {
				out = append(out, string(m))
			}
		}
		return out
	}
	for _, typ := range []byte{'R', 'S', 'Z'} {
		if d, p := filter(direct, typ), filter(proxied, typ); !reflect.DeepEqual(d, p) {
			t.Errorf("startup %c messages differ:\n direct:  %q\n proxied: %q", typ, d, p)
		}
	}
	if k := filter(proxied, 'K'); len(k) != 1 || len(k[0]) != 13 {
		t.Errorf("proxy sent BackendKeyData %q, want one 8-byte key", k)
	}
}

// extendedCase is an extended-protocol exchange: it sends messages and
// returns what came back.
type extendedCase struct {
	name string
	run  func(c *wireConn) []wireMsg
}

func execFormat(sql string, format int16) func(c *wireConn) []wireMsg {
	return func(c *wireConn) []wireMsg {
		c.send(
			&pgproto3.Parse{Query: sql},
			&pgproto3.Bind{ResultFormatCodes: []int16{format}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
		)
		return c.readUntil('Z', 1)
	}
}

var extendedCases = []extendedCase{
	{"describe_statement", func(c *wireConn) []wireMsg {
		c.send(
			&pgproto3.Parse{Name: "s1", Query: "SELECT $1::int4 + $2, $3::text", ParameterOIDs: []uint32{23}},
			&pgproto3.Describe{ObjectType: 'S', Name: "s1"},
			&pgproto3.Sync{},
			&pgproto3.Bind{PreparedStatement: "s1", ParameterFormatCodes: []int16{1, 0, 0},
				Parameters: [][]byte{{0, 0, 0, 40}, []byte("2"), nil}, ResultFormatCodes: []int16{1, 0}},
			&pgproto3.Execute{},
			&pgproto3.Close{ObjectType: 'S', Name: "s1"},
			&pgproto3.Sync{},
		)
		return c.readUntil('Z', 2)
	}},
	{"portal_max_rows", func(c *wireConn) []wireMsg {
		c.send(
			&pgproto3.Parse{Name: "gs", Query: "SELECT i, repeat('z', i * 10) FROM generate_series(1, 25) i"},
			&pgproto3.Bind{DestinationPortal: "p1", PreparedStatement: "gs"},
			&pgproto3.Describe{ObjectType: 'P', Name: "p1"},
			&pgproto3.Execute{Portal: "p1", MaxRows: 10},
			&pgproto3.Execute{Portal: "p1", MaxRows: 10},
			&pgproto3.Execute{Portal: "p1", MaxRows: 10},
			&pgproto3.Execute{Portal: "p1", MaxRows: 10},
			&pgproto3.Close{ObjectType: 'P', Name: "p1"},
			&pgproto3.Sync{},
		)
		return c.readUntil('Z', 1)
	}},
	{"portal_in_transaction", func(c *wireConn) []wireMsg {
		c.send(&pgproto3.Query{String: "BEGIN"})
		out := c.readUntil('Z', 1)
		c.send(
			&pgproto3.Bind{DestinationPortal: "p2", PreparedStatement: "gs", ResultFormatCodes: []int16{1}},
			&pgproto3.Execute{Portal: "p2", MaxRows: 7},
			&pgproto3.Sync{},
		)
		out = append(out, c.readUntil('Z', 1)...)
		c.send(&pgproto3.Execute{Portal: "p2", MaxRows: 0}, &pgproto3.Sync{})
		out = append(out, c.readUntil('Z', 1)...)
		c.send(&pgproto3.Query{String: "COMMIT"})
		out = append(out, c.readUntil('Z', 1)...)
		// The portal is gone with the transaction.
		c.send(&pgproto3.Execute{Portal: "p2"}, &pgproto3.Sync{})
		return append(out, c.readUntil('Z', 1)...)
	}},
	{"error_mid_pipeline", func(c *wireConn) []wireMsg {
		c.send(
			&pgproto3.Parse{Query: "SELECT 1"},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.Parse{Query: "SELEC 2"},
			&pgproto3.Bind{},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Parse{Name: "never", Query: "SELECT 3"},
			&pgproto3.Sync{},
			&pgproto3.Parse{Query: "SELECT 1/$1::int"},
			&pgproto3.Bind{Parameters: [][]byte{[]byte("0")}},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
			&pgproto3.Describe{ObjectType: 'S', Name: "never"},
			&pgproto3.Sync{},
			&pgproto3.Parse{Query: "SELECT 'fine'"},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
		)
		return c.readUntil('Z', 4)
	}},
	{"flush_without_sync", func(c *wireConn) []wireMsg {
		c.send(
			&pgproto3.Parse{Query: "SELECT 'flushed'"},
			&pgproto3.Bind{},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Flush{},
		)
		out := c.readUntil('C', 1) // only the Flush makes these arrive
		c.send(&pgproto3.Sync{})
		return append(out, c.readUntil('Z', 1)...)
	}},
	{"empty_query_and_no_data", func(c *wireConn) []wireMsg {
		c.send(
			&pgproto3.Parse{Query: ""},
			&pgproto3.Bind{},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Parse{Query: "SET application_name = 'ext'"},
			&pgproto3.Describe{ObjectType: 'S'},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
		)
		return c.readUntil('Z', 1)
	}},
	{"copy_out_extended", func(c *wireConn) []wireMsg {
		c.send(
			&pgproto3.Parse{Query: "COPY (SELECT i FROM generate_series(1, 100) i) TO STDOUT"},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
		)
		return c.readUntil('Z', 1)
	}},
	{"copy_in_simple", func(c *wireConn) []wireMsg {
		out := c.query("CREATE TEMP TABLE IF NOT EXISTS ci (a int, b text)")
		c.send(&pgproto3.Query{String: "COPY ci FROM STDIN"})
		out = append(out, c.readUntil('G', 1)...)
		c.send(&pgproto3.CopyData{Data: []byte("1\tone\n2\t")}, &pgproto3.CopyData{Data: []byte("two\n3\t\\N\n")}, &pgproto3.CopyDone{})
		out = append(out, c.readUntil('Z', 1)...)
		c.send(&pgproto3.Query{String: "COPY ci FROM STDIN"})
		out = append(out, c.readUntil('G', 1)...)
		c.send(&pgproto3.CopyData{Data: []byte("4\tfour\n")}, &pgproto3.CopyFail{Message: "client gave up"})
		out = append(out, c.readUntil('Z', 1)...)
		c.send(&pgproto3.Query{String: "COPY ci FROM STDIN"})
		out = append(out, c.readUntil('G', 1)...)
		c.send(&pgproto3.CopyData{Data: []byte("x\tbad\n")}, &pgproto3.CopyDone{})
		out = append(out, c.readUntil('Z', 1)...)
		return append(out, c.query("SELECT a + 0, b || '' FROM ci ORDER BY a; TRUNCATE ci")...)
	}},
	{"copy_in_extended", func(c *wireConn) []wireMsg {
		// libpq's PQexecParams with COPY FROM STDIN: Sync right after
		// Execute (ignored by the server during COPY), and another after
		// CopyDone.
		out := c.query("CREATE TEMP TABLE IF NOT EXISTS ce (a int)")
		c.send(
			&pgproto3.Parse{Query: "COPY ce FROM STDIN"},
			&pgproto3.Bind{},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
		)
		out = append(out, c.readUntil('G', 1)...)
		c.send(&pgproto3.CopyData{Data: []byte("1\n2\n")}, &pgproto3.CopyDone{}, &pgproto3.Sync{})
		out = append(out, c.readUntil('Z', 1)...)
		return append(out, c.query("SELECT sum(a) FROM ce; TRUNCATE ce")...)
	}},
	{"copy_in_extended_pipelined", func(c *wireConn) []wireMsg {
		// Everything in one write, before the CopyInResponse arrives.
		out := c.query("CREATE TEMP TABLE IF NOT EXISTS ce (a int)")
		c.send(
			&pgproto3.Parse{Query: "COPY ce FROM STDIN"},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
			&pgproto3.CopyData{Data: []byte("5\n6\n")},
			&pgproto3.Flush{},
			&pgproto3.Sync{},
			&pgproto3.CopyDone{},
			&pgproto3.Sync{},
			&pgproto3.Query{String: "SELECT sum(a) FROM ce; TRUNCATE ce"},
		)
		return append(out, c.readUntil('Z', 2)...)
	}},
	{"copy_in_extended_errors", func(c *wireConn) []wireMsg {
		out := c.query("CREATE TEMP TABLE IF NOT EXISTS ce (a int)")
		// Bad data: the error, then the server skips to the Sync after
		// CopyDone.
		c.send(&pgproto3.Parse{Query: "COPY ce FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
		out = append(out, c.readUntil('G', 1)...)
		c.send(&pgproto3.CopyData{Data: []byte("1\nx\n")}, &pgproto3.CopyDone{}, &pgproto3.Sync{})
		out = append(out, c.readUntil('Z', 1)...)
		// CopyFail.
		c.send(&pgproto3.Parse{Query: "COPY ce FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
		out = append(out, c.readUntil('G', 1)...)
		c.send(&pgproto3.CopyFail{Message: "abandoned"}, &pgproto3.Sync{})
		out = append(out, c.readUntil('Z', 1)...)
		// A COPY that never starts: each Sync is answered, the COPY data
		// in between is ignored.
		c.send(
			&pgproto3.Parse{Query: "COPY does_not_exist_anywhere FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{},
			&pgproto3.CopyData{Data: []byte("1\n")}, &pgproto3.CopyDone{}, &pgproto3.Sync{},
		)
		out = append(out, c.readUntil('Z', 2)...)
		return append(out, c.query("SELECT count(*) FROM ce")...)
	}},
	{"copy_in_simple_error_without_copydone", func(c *wireConn) []wireMsg {
		// The server rejects a row and leaves COPY mode; the client never
		// sends CopyDone and goes on with the extended protocol.
		out := c.query("CREATE TEMP TABLE IF NOT EXISTS ce (a int)")
		c.send(&pgproto3.Query{String: "COPY ce FROM STDIN"})
		out = append(out, c.readUntil('G', 1)...)
		c.send(&pgproto3.CopyData{Data: []byte("oops\n")})
		out = append(out, c.readUntil('Z', 1)...)
		c.send(&pgproto3.Parse{Query: "SELECT 'next'"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
		return append(out, c.readUntil('Z', 1)...)
	}},
	{"function_call", func(c *wireConn) []wireMsg {
		// int4pl (OID 177) via the FunctionCall message.
		c.send(&pgproto3.FunctionCall{Function: 177, ArgFormatCodes: []uint16{1},
			Arguments: [][]byte{{0, 0, 0, 40}, {0, 0, 0, 2}}, ResultFormatCode: 1})
		out := c.readUntil('Z', 1)
		c.send(&pgproto3.FunctionCall{Function: 177, ArgFormatCodes: []uint16{0},
			Arguments: [][]byte{[]byte("2147483647"), []byte("1")}, ResultFormatCode: 0})
		return append(out, c.readUntil('Z', 1)...)
	}},
}

func TestDifferentialExtended(t *testing.T) {
	t.Parallel()
	for _, v := range proxyVariants {
		t.Run(v.name, func(t *testing.T) { differentialExtended(t, v.configure, v.configure != nil) })
	}
}

// withoutErrorLocation drops the source file, line and routine fields of
// ErrorResponses: an Execute that a restricted session's injected Describe
// precedes fails in the Describe, with the same SQLSTATE and message but
// another server routine.
func withoutErrorLocation(msgs []wireMsg) []wireMsg {
	out := make([]wireMsg, len(msgs))
	for i, m := range msgs {
		out[i] = m
		if m.typ() != 'E' {
			continue
		}
		var e pgproto3.ErrorResponse
		if e.Decode(m[5:]) != nil {
			continue
		}
		e.File, e.Line, e.Routine = "", 0, ""
		if enc, err := e.Encode(nil); err == nil {
			out[i] = enc
		}
	}
	return out
}

func differentialExtended(t *testing.T, configure func(*proxy.Server), intercepted bool) {
	p := startProxy(t, configure)
	c := pgtest.Cluster(t)
	direct, _ := dialWire(t, c.Addr())
	proxied, _ := dialWire(t, p.addr)
	for _, format := range []int16{0, 1} {
		for i, sql := range diffSQL {
			t.Run(fmt.Sprintf("format%d/sql%02d", format, i), func(t *testing.T) {
				run := execFormat(sql, format)
				compareWire(t, run(direct.with(t)), run(proxied.with(t)))
			})
		}
	}
	for _, ec := range extendedCases {
		t.Run(ec.name, func(t *testing.T) {
			// Fresh sessions, so that a failure stays in its case.
			d, _ := dialWire(t, c.Addr())
			pr, _ := dialWire(t, p.addr)
			switch {
			case intercepted && ec.name == "function_call":
				// FunctionCall results carry no column origin: sessions with
				// an interceptor (restricted roles) get a 42501 error, and
				// the session goes on.
				pr.send(&pgproto3.FunctionCall{Function: 177, ArgFormatCodes: []uint16{1},
					Arguments: [][]byte{{0, 0, 0, 40}, {0, 0, 0, 2}}, ResultFormatCode: 1})
				if m := pr.readUntil('E', 1); !strings.Contains(string(m[len(m)-1]), "42501") {
					t.Fatalf("FunctionCall with an interceptor: got %s, want a 42501 error", messageTypes(m))
				}
				pr.readUntil('Z', 1)
				compareWire(t, d.query("SELECT 'after'"), pr.query("SELECT 'after'"))
			case intercepted:
				compareWire(t, withoutErrorLocation(ec.run(d)), withoutErrorLocation(ec.run(pr)))
			default:
				compareWire(t, ec.run(d), ec.run(pr))
			}
		})
	}
	// Both sessions are still in step.
	compareWire(t, direct.query("SELECT 'end'"), proxied.query("SELECT 'end'"))
}

// TestDifferentialPgconn compares pgconn's view of the results: field
// descriptions, the raw bytes of every row, command tags and error fields,
// for Exec (simple protocol, multi-statement) and ExecParams in text and
// binary formats.
func TestDifferentialPgconn(t *testing.T) {
	t.Parallel()
	for _, v := range proxyVariants {
		t.Run(v.name, func(t *testing.T) { differentialPgconn(t, v.configure) })
	}
}

func differentialPgconn(t *testing.T, configure func(*proxy.Server)) {
	p := startProxy(t, configure)
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	connect := func(dsn string) *pgconn.PgConn {
		conn, err := pgconn.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(ctx) })
		return conn
	}
	direct := connect(c.DSN("postgres", "", "postgres"))
	proxied := connect(p.dsn("postgres", "", "postgres"))

	describe := func(results []*pgconn.Result, err error) string {
		var b strings.Builder
		for _, r := range results {
			describeResult(&b, r)
		}
		describeErr(&b, err)
		return b.String()
	}
	var scripts []string
	for _, s := range diffScripts {
		scripts = append(scripts, strings.Join(s, "; "))
	}
	for i, sql := range append(append([]string(nil), diffSQL...), scripts...) {
		if strings.Contains(sql, "COPY") || strings.Contains(sql, "LISTEN") || strings.Contains(sql, "CURSOR") {
			continue // not results pgconn.Exec collects
		}
		t.Run(fmt.Sprintf("exec%02d", i), func(t *testing.T) {
			d := describe(direct.Exec(ctx, sql).ReadAll())
			pr := describe(proxied.Exec(ctx, sql).ReadAll())
			if d != pr {
				t.Fatalf("results differ:\n direct:  %s\n proxied: %s", d, pr)
			}
			// Reset any transaction a script left open or aborted.
			direct.Exec(ctx, "ROLLBACK").ReadAll()
			proxied.Exec(ctx, "ROLLBACK").ReadAll()
		})
	}
	for _, format := range []int16{0, 1} {
		for i, sql := range diffSQL {
			t.Run(fmt.Sprintf("params_format%d/sql%02d", format, i), func(t *testing.T) {
				var b1, b2 strings.Builder
				describeResult(&b1, direct.ExecParams(ctx, sql, nil, nil, nil, []int16{format}).Read())
				describeResult(&b2, proxied.ExecParams(ctx, sql, nil, nil, nil, []int16{format}).Read())
				if b1.String() != b2.String() {
					t.Fatalf("results differ:\n direct:  %s\n proxied: %s", b1.String(), b2.String())
				}
			})
		}
	}
}

func describeResult(b *strings.Builder, r *pgconn.Result) {
	fmt.Fprintf(b, "fields=%+v rows=%q tag=%q ", r.FieldDescriptions, r.Rows, r.CommandTag.String())
	describeErr(b, r.Err)
	b.WriteString("\n")
}

func describeErr(b *strings.Builder, err error) {
	if err == nil {
		return
	}
	if pe, ok := err.(*pgconn.PgError); ok {
		fmt.Fprintf(b, "error{%s %s %q detail=%q hint=%q pos=%d where=%q schema=%q table=%q column=%q constraint=%q}",
			pe.Severity, pe.Code, pe.Message, pe.Detail, pe.Hint, pe.Position, pe.Where,
			pe.SchemaName, pe.TableName, pe.ColumnName, pe.ConstraintName)
		return
	}
	fmt.Fprintf(b, "error{%v}", err)
}
