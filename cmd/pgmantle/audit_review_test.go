package main

// Leak review, end to end: statements whose text PostgreSQL lexes
// differently from the audit normalizer (client_encoding, and
// standard_conforming_strings at Parse time), so that what PostgreSQL
// took as a literal reaches the audit log. TestAuditReviewFindings fails
// on the current code; TestAuditReviewHolds documents what was tried and
// held.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// reviewConn speaks the protocol directly (pgconn hijacked after login),
// so that messages can be pipelined and FunctionCall sent.
type reviewConn struct {
	t     *testing.T
	fe    *pgproto3.Frontend
	close func()
}

func reviewConnect(t *testing.T, s *auditServer, user, password, params string) *reviewConn {
	t.Helper()
	ctx := pgtest.Context(t)
	dsn := "postgres://" + user + ":" + password + "@" + s.addr + "/postgres?sslmode=disable&application_name=audit-review" + params
	if password == "" {
		dsn = "postgres://" + user + "@" + s.addr + "/postgres?sslmode=disable&application_name=audit-review" + params
	}
	pc, err := pgconn.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	hc.Conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &reviewConn{t: t, fe: hc.Frontend, close: func() {
		hc.Frontend.Send(&pgproto3.Terminate{})
		hc.Frontend.Flush()
		hc.Conn.Close()
	}}
	t.Cleanup(c.close)
	return c
}

// run sends msgs and reads until every Query, FunctionCall and Sync among
// them is answered; it returns the text of every DataRow field and the
// SQLSTATE of every error.
func (c *reviewConn) run(msgs ...pgproto3.FrontendMessage) (values []string, codes []string) {
	c.t.Helper()
	want := 0
	for _, m := range msgs {
		c.fe.Send(m)
		switch m.(type) {
		case *pgproto3.Query, *pgproto3.FunctionCall, *pgproto3.Sync:
			want++
		}
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
	for want > 0 {
		m, err := c.fe.Receive()
		if err != nil {
			c.t.Fatal(err)
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			for _, v := range m.Values {
				values = append(values, string(v))
			}
		case *pgproto3.ErrorResponse:
			codes = append(codes, m.Code)
		case *pgproto3.ReadyForQuery:
			want--
		}
	}
	return values, codes
}

func (c *reviewConn) simple(sql string) ([]string, []string) {
	c.t.Helper()
	return c.run(&pgproto3.Query{String: sql})
}

// backslashTrail returns a character of enc whose encoding is two bytes
// ending in 0x5C ('\'): inside E'...' the normalizer, reading the bytes as
// UTF-8, takes that byte for an escape; PostgreSQL, converting from enc
// first, does not.
func backslashTrail(t *testing.T, enc encoding.Encoding) string {
	t.Helper()
	e := enc.NewEncoder()
	for r := rune(0x4E00); r < 0x9FFF; r++ {
		b, err := e.Bytes([]byte(string(r)))
		if err == nil && len(b) == 2 && b[1] == '\\' {
			return string(b)
		}
	}
	t.Fatal("no character with a 0x5C trail byte")
	return ""
}

// smuggle is a text PostgreSQL reads (after conversion from the client
// encoding) as SELECT E'<ch>' AS a, ' AS "<seed>", ' AS b, the seed being
// inside the literal b; the normalizer reads E'<lead>\' AS a, ' as one
// literal, "<seed>" as a name, and keeps it.
func smuggle(ch, seed string) string {
	return "SELECT E'" + ch + "' AS a, ' AS \"" + seed + "\", ' AS b -- '"
}

// scsText is a text PostgreSQL with standard_conforming_strings off reads
// as one literal (a, a quote, then "<seed>) and the number 1; with it on
// (as the normalizer reads it) the seed is inside a quoted name.
func scsText(seed string) string {
	return "SELECT 'a\\', \"" + seed + "', 1 -- \""
}

// reviewFiles reads every file pgmantle wrote in dir (the audit log and
// its own log).
func reviewFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		if strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".json") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(data)
	}
	return out
}

func checkNoSeed(t *testing.T, files map[string]string, seed string) {
	t.Helper()
	for name, data := range files {
		for _, line := range strings.Split(data, "\n") {
			if strings.Contains(line, seed) {
				t.Errorf("%s holds %s: %s", name, seed, line)
			}
		}
	}
}

func contains(values []string, seed string) bool {
	for _, v := range values {
		if strings.Contains(v, seed) {
			return true
		}
	}
	return false
}

func TestAuditReviewFindings(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)

	type attack struct {
		name, seed string
		run        func(t *testing.T, seed string)
		// only, if set, checks just the records it selects (for attacks
		// whose seed is also, legitimately, a name in another record).
		only func(e audit.Entry) bool
	}
	encodingAttack := func(user, password, clientEncoding string, enc encoding.Encoding) func(t *testing.T, seed string) {
		return func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, user, password, "&client_encoding="+clientEncoding)
			defer conn.close()
			values, codes := conn.simple(smuggle(backslashTrail(t, enc), seed))
			if len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("PostgreSQL did not return the literal holding the seed: %q %v", values, codes)
			}
		}
	}
	attacks := []attack{
		// client_encoding GBK / BIG5 (GBK is what the project names as its
		// legacy clients'): the hook normalizes the client's bytes as if
		// they were UTF-8 (proxy/audithook/hook.go describe), so a trail
		// byte 0x5C inside E'...' ends a literal early in the normalizer's
		// reading only.
		{name: "gbk_E_string_trail_backslash_unrestricted", seed: "SEEDGBK-71c3",
			run: encodingAttack("bookkeeper", "pw", "GBK", simplifiedchinese.GBK)},
		{name: "gbk_E_string_trail_backslash_restricted_analyst", seed: "SEEDGBKAN-2f90",
			run: encodingAttack("analyst", "pw", "GBK", simplifiedchinese.GBK)},
		{name: "big5_E_string_trail_backslash", seed: "SEEDBIG5-9d14",
			run: encodingAttack("bookkeeper", "pw", "BIG5", traditionalchinese.Big5)},
		// standard_conforming_strings off when PostgreSQL parsed a
		// prepared statement, on (per the session's last ParameterStatus)
		// when it ran: the hook decides by the setting at execution.
		{name: "scs_off_at_parse_on_at_execute", seed: "SEEDSCSPARSE-0a4b", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			conn.simple("SET standard_conforming_strings = off")
			if _, codes := conn.run(&pgproto3.Parse{Name: "p_review", Query: scsText(seed)}, &pgproto3.Sync{}); len(codes) > 0 {
				t.Fatalf("Parse: %v", codes)
			}
			conn.simple("SET standard_conforming_strings = on")
			values, codes := conn.run(&pgproto3.Bind{PreparedStatement: "p_review"}, &pgproto3.Execute{}, &pgproto3.Sync{})
			if len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("PostgreSQL did not return the literal holding the seed: %q %v", values, codes)
			}
		}},
		// The same in one pipeline: PostgreSQL reports the SET's
		// ParameterStatus only before ReadyForQuery, so the next Parse is
		// lexed with the setting off while the hook still sees it on.
		{name: "scs_off_pipelined_before_parameter_status", seed: "SEEDSCSPIPE-6e21", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			values, codes := conn.run(
				&pgproto3.Parse{Query: "SET standard_conforming_strings = off"}, &pgproto3.Bind{}, &pgproto3.Execute{},
				&pgproto3.Parse{Query: scsText(seed)}, &pgproto3.Bind{}, &pgproto3.Execute{},
				&pgproto3.Sync{})
			if len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("PostgreSQL did not return the literal holding the seed: %q %v", values, codes)
			}
		}},
		// The hook's memo of the last text (session.lastSQL) is reused
		// before the standard_conforming_strings check: a text sent with
		// it on, then again after a FunctionCall (which leaves the memo
		// alone) turned it off, gets the first reading. Only the second
		// run's record is checked: in the first the seed is a name.
		{name: "scs_memo_of_last_text_reused_after_functioncall", seed: "SEEDSCSMEMO-c3d8", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			values, _ := conn.simple("SELECT 'pg_catalog.set_config(text,text,boolean)'::pg_catalog.regprocedure::pg_catalog.oid")
			if len(values) != 1 {
				t.Fatalf("set_config oid: %q", values)
			}
			var oid uint32
			for _, d := range values[0] {
				oid = oid*10 + uint32(d-'0')
			}
			if _, codes := conn.simple(scsText(seed)); len(codes) != 1 || codes[0] != "42703" {
				t.Fatalf("with standard_conforming_strings on: %v", codes)
			}
			if _, codes := conn.run(&pgproto3.FunctionCall{Function: oid, ArgFormatCodes: []uint16{0},
				Arguments: [][]byte{[]byte("standard_conforming_strings"), []byte("off"), []byte("false")}}); len(codes) > 0 {
				t.Fatalf("FunctionCall: %v", codes)
			}
			values, codes := conn.simple(scsText(seed))
			if len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("PostgreSQL did not return the literal holding the seed: %q %v", values, codes)
			}
		}, only: func(e audit.Entry) bool { return e.Decision == audit.DecisionAllowed }},
		// The normalizer's -(n) finding (audit/leak_review_test.go) end to
		// end, then through the shape cache into another session's record.
		{name: "negative_parenthesized_number", seed: "13912345671", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			if _, codes := conn.simple("SELECT * FROM bk.contacts WHERE id = -(" + seed + ")"); len(codes) > 0 {
				t.Fatal(codes)
			}
		}},
		{name: "shape_cache_gives_another_sessions_number", seed: "13912345671", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "postgres", "", "")
			defer conn.close()
			if _, codes := conn.simple("SELECT * FROM bk.contacts WHERE id = -(1)"); len(codes) > 0 {
				t.Fatal(codes)
			}
		}, only: func(e audit.Entry) bool { return e.Role == "postgres" }},
	}
	for _, a := range attacks {
		a.run(t, a.seed)
	}
	s.stop()
	files := reviewFiles(t, dir)
	recs := readAudit(t, filepath.Join(dir, "audit.log"))
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			if a.only == nil {
				checkNoSeed(t, files, a.seed)
				return
			}
			for _, e := range recs {
				if a.only(e) && strings.Contains(e.SQL, a.seed) {
					t.Errorf("record %d (%s, %s) holds %s: %s", e.Seq, e.Decision, e.Protocol, a.seed, e.SQL)
				}
			}
		})
	}
}

func TestAuditReviewHolds(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)

	type attack struct {
		name, seed string
		run        func(t *testing.T, seed string)
	}
	attacks := []attack{
		// Simple Query under standard_conforming_strings off: redacted.
		{"scs_off_simple_query", "SEEDSCSOFF-11aa", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			conn.simple("SET standard_conforming_strings = off")
			if values, _ := conn.simple(scsText(seed)); !contains(values, seed) {
				t.Fatalf("PostgreSQL did not return the seed: %q", values)
			}
		}},
		// Statement named and executed under off: redacted at execution.
		{"scs_off_parse_and_execute", "SEEDSCSBOTH-22bb", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			conn.simple("SET standard_conforming_strings = off")
			if values, _ := conn.run(&pgproto3.Parse{Query: scsText(seed)}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{}); !contains(values, seed) {
				t.Fatalf("PostgreSQL did not return the seed: %q", values)
			}
		}},
		// GBK with plain '...' (backslash not an escape): both read alike.
		{"gbk_plain_string_trail_backslash", "SEEDGBKPLAIN-33cc", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "&client_encoding=GBK")
			defer conn.close()
			ch := backslashTrail(t, simplifiedchinese.GBK)
			if values, codes := conn.simple("SELECT '" + ch + "' AS a, '" + seed + "' AS b"); len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("%q %v", values, codes)
			}
		}},
		// Error messages quoting the value: only the SQLSTATE is kept.
		{"error_message_quotes_value", "SEEDERR-44dd", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			if _, codes := conn.simple("SELECT '" + seed + "'::int"); len(codes) != 1 {
				t.Fatalf("%v", codes)
			}
			conn.run(&pgproto3.Parse{Query: "SELECT $1::int"}, &pgproto3.Bind{Parameters: [][]byte{[]byte(seed)}}, &pgproto3.Execute{}, &pgproto3.Sync{})
		}},
		// A refusal's reason for a statement holding a literal.
		{"refusal_reason", "SEEDREASON-55ee", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "analyst", "pw", "")
			defer conn.close()
			if _, codes := conn.simple("SELECT address FROM bk.contacts WHERE address = '" + seed + "'"); len(codes) != 1 || codes[0] != "42501" {
				t.Fatalf("%v", codes)
			}
		}},
		// Startup options with a value (options=-c ...): not recorded.
		{"startup_options", "SEEDOPTIONS-66ff", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "&options=-c%20myapp.key%3D"+seed)
			defer conn.close()
			conn.simple("SELECT current_setting('myapp.key')")
		}},
		// Nested SET with a quoted literal, user mapping password,
		// PREPARE TRANSACTION gid, NOTIFY payload, COPY options.
		{"utility_literals", "SEEDUTIL-77ab", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "postgres", "", "")
			defer conn.close()
			for _, sql := range []string{
				"ALTER ROLE intern SET myapp.key = '" + seed + "'",
				"CREATE EXTENSION IF NOT EXISTS postgres_fdw",
				"CREATE SERVER review_srv FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '" + seed + "')",
				"CREATE USER MAPPING FOR intern SERVER review_srv OPTIONS (user 'intern', password '" + seed + "')",
				"DROP SERVER review_srv CASCADE",
				"NOTIFY review, '" + seed + "'",
				"BEGIN; PREPARE TRANSACTION '" + seed + "'",
				"COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, NULL '" + seed + "')",
				"SET myapp.key = \"" + seed + "\"",
			} {
				conn.simple(sql)
			}
		}},
		// A negative number in a subquery-free form that works: -n.
		{"negative_number_plain", "13912345670", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			conn.simple("SELECT * FROM bk.contacts WHERE id = -" + seed)
		}},
	}
	for _, a := range attacks {
		a.run(t, a.seed)
	}
	s.stop()
	files := reviewFiles(t, dir)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) { checkNoSeed(t, files, a.seed) })
	}
}
