package main

// Leak review, round 2, end to end. TestAuditReview2Findings fails on the
// current code (each subtest is one way a value still reaches the audit
// log or pgmantle's log); TestAuditReview2Holds documents what was tried
// and held.

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// utf8SwallowsGBK returns a character whose UTF-8 encoding, read as GBK,
// ends in a lead byte: GBK takes the byte after it (a backslash) as the
// character's trail byte, so E'<ch>\' is a closed literal in a GBK
// reading and an escaped quote in the UTF-8 one.
func utf8SwallowsGBK(t *testing.T) string {
	t.Helper()
	dec := simplifiedchinese.GBK.NewDecoder()
	for r := rune(0x4E00); r < 0x9FFF; r++ {
		s := string(r)
		if len(s) != 3 {
			continue
		}
		out, err := dec.String(s + "\\")
		if err == nil && utf8.ValidString(out) && !strings.ContainsRune(out, '\\') && !strings.ContainsRune(out, utf8.RuneError) {
			return s
		}
	}
	t.Fatal("no such character")
	return ""
}

// utf8Literal is a valid UTF-8 text PostgreSQL, reading it as UTF-8,
// answers with one literal holding the seed; read as GBK (as the hook
// decodes it when the session's client_encoding is GBK) the literal ends
// after <ch>, and "<seed>" is a column name.
func utf8Literal(ch, seed string) string {
	return "SELECT E'" + ch + "\\', \"" + seed + "\" AS b, ' AS c -- '"
}

func TestAuditReview2Findings(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)

	type attack struct {
		name, seed string
		run        func(t *testing.T, seed string)
		only       func(e audit.Entry) bool
	}
	attacks := []attack{
		// 1. A simple Query of several statements that pgmantle refuses as
		// a whole is recorded by Query.Whole, which joins the statements'
		// normalized texts (Split's parts), not the redacted ones that
		// Parts hold for statements whose values are written as names
		// (audit/normalize.go Normalize: strings.Join(parts, "; ")).
		{name: "whole_refused_query_with_nested_set_word", seed: "SEEDWHOLESET_7f1c", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "analyst", "pw", "")
			defer conn.close()
			if _, codes := conn.simple("SELECT 1; ALTER ROLE analyst SET myapp.api_key = " + seed); len(codes) != 1 || codes[0] != "42501" {
				t.Fatalf("want a refusal: %v", codes)
			}
		}},
		{name: "whole_refused_query_with_quoted_option_value", seed: "SEEDWHOLEOPT-2b9d", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "analyst", "pw", "")
			defer conn.close()
			if _, codes := conn.simple("SELECT 1; ALTER SYSTEM SET myapp.api_key = \"" + seed + "\""); len(codes) != 1 || codes[0] != "42501" {
				t.Fatalf("want a refusal: %v", codes)
			}
		}},
		// 2. client_encoding changed between a Parse and its Execute:
		// PostgreSQL converted the text at Parse (UTF-8: the seed is in a
		// literal); the hook decodes the prepared text by the encoding in
		// force when the Execute ends (GBK: the seed is a name)
		// (proxy/audithook/hook.go query, ev.Param at the statement's end).
		{name: "client_encoding_changed_between_parse_and_execute", seed: "SEEDENCPE-4c21", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			if _, codes := conn.run(&pgproto3.Parse{Name: "p_enc", Query: utf8Literal(utf8SwallowsGBK(t), seed)}, &pgproto3.Sync{}); len(codes) > 0 {
				t.Fatalf("Parse: %v", codes)
			}
			if _, codes := conn.simple("SET client_encoding = 'GBK'"); len(codes) > 0 {
				t.Fatal(codes)
			}
			values, codes := conn.run(&pgproto3.Bind{PreparedStatement: "p_enc"}, &pgproto3.Execute{}, &pgproto3.Sync{})
			if len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("PostgreSQL did not return the literal holding the seed: %q %v", values, codes)
			}
		}},
		// The other direction: parsed in GBK (the seed in a literal),
		// executed after SET client_encoding = 'UTF8' (the hook reads the
		// same bytes, valid UTF-8, as UTF-8: the seed is a name).
		{name: "client_encoding_changed_between_parse_and_execute_gbk_to_utf8", seed: "SEEDENCPE2-81f0", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "&client_encoding=GBK")
			defer conn.close()
			if _, codes := conn.run(&pgproto3.Parse{Name: "p_enc2", Query: smuggle(utf8SwallowsGBK(t)+"\\", seed)}, &pgproto3.Sync{}); len(codes) > 0 {
				t.Fatalf("Parse: %v", codes)
			}
			if _, codes := conn.simple("SET client_encoding = 'UTF8'"); len(codes) > 0 {
				t.Fatal(codes)
			}
			values, codes := conn.run(&pgproto3.Bind{PreparedStatement: "p_enc2"}, &pgproto3.Execute{}, &pgproto3.Sync{})
			if len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("PostgreSQL did not return the literal holding the seed: %q %v", values, codes)
			}
		}},
		// 3. The same in one pipeline: a session connected in GBK sets
		// client_encoding to UTF8 and, before the Sync, parses and runs
		// the text; PostgreSQL reports the new encoding only before
		// ReadyForQuery, so the hook still decodes the text as GBK.
		{name: "client_encoding_pipelined_before_parameter_status", seed: "SEEDENCPIPE-9e07", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "&client_encoding=GBK")
			defer conn.close()
			values, codes := conn.run(
				&pgproto3.Parse{Query: "SET client_encoding = 'UTF8'"}, &pgproto3.Bind{}, &pgproto3.Execute{},
				&pgproto3.Parse{Query: utf8Literal(utf8SwallowsGBK(t), seed)}, &pgproto3.Bind{}, &pgproto3.Execute{},
				&pgproto3.Sync{})
			if len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("PostgreSQL did not return the literal holding the seed: %q %v", values, codes)
			}
		}},
		// 4. The hook's memo of the last text (session.lastSQL) is reused
		// across a client_encoding change made by a FunctionCall (which
		// leaves the memo alone): the text is read as GBK the first time
		// (the seed a name; PostgreSQL fails on the unknown column) and
		// the memo is served when, in UTF8, PostgreSQL returns the seed.
		{name: "memo_of_last_text_reused_after_encoding_change", seed: "SEEDENCMEMO-5d3a", run: func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "&client_encoding=GBK")
			defer conn.close()
			values, _ := conn.simple("SELECT 'pg_catalog.set_config(text,text,boolean)'::pg_catalog.regprocedure::pg_catalog.oid")
			if len(values) != 1 {
				t.Fatalf("set_config oid: %q", values)
			}
			var oid uint32
			for _, d := range values[0] {
				oid = oid*10 + uint32(d-'0')
			}
			text := utf8Literal(utf8SwallowsGBK(t), seed)
			if _, codes := conn.simple(text); len(codes) != 1 || codes[0] != "42703" {
				t.Fatalf("in GBK: %v", codes)
			}
			if _, codes := conn.run(&pgproto3.FunctionCall{Function: oid, ArgFormatCodes: []uint16{0},
				Arguments: [][]byte{[]byte("client_encoding"), []byte("UTF8"), []byte("false")}}); len(codes) > 0 {
				t.Fatalf("FunctionCall: %v", codes)
			}
			values, codes := conn.simple(text)
			if len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("PostgreSQL did not return the literal holding the seed: %q %v", values, codes)
			}
		}, only: func(e audit.Entry) bool { return e.Decision == audit.DecisionAllowed }},
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

func TestAuditReview2Holds(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)

	type attack struct {
		name, seed string
		run        func(t *testing.T, seed string)
	}
	attacks := []attack{
		// SET client_encoding and the text in one simple Query: PostgreSQL
		// converts the whole Query on receipt, and the hook normalizes it
		// at the first statement's end, before the new ParameterStatus.
		{"set_encoding_and_text_in_one_query", "SEEDONEQ-1a2b", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			if values, codes := conn.simple("SET client_encoding = 'GBK'; " + utf8Literal(utf8SwallowsGBK(t), seed)); len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("%q %v", values, codes)
			}
		}},
		// Parse and Execute under the same non-UTF-8 encoding.
		{"gbk_parse_and_execute", "SEEDGBKPE-3c4d", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "&client_encoding=GBK")
			defer conn.close()
			if values, codes := conn.run(&pgproto3.Parse{Query: smuggle(backslashTrail(t, simplifiedchinese.GBK), seed)},
				&pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{}); len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("%q %v", values, codes)
			}
		}},
		// FunctionCall arguments: the record says FUNCTION CALL only.
		{"function_call_argument", "SEEDFCALL-5e6f", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			values, _ := conn.simple("SELECT 'pg_catalog.set_config(text,text,boolean)'::pg_catalog.regprocedure::pg_catalog.oid")
			var oid uint32
			for _, d := range values[0] {
				oid = oid*10 + uint32(d-'0')
			}
			if _, codes := conn.run(&pgproto3.FunctionCall{Function: oid, ArgFormatCodes: []uint16{0},
				Arguments: [][]byte{[]byte("myapp.key"), []byte(seed), []byte("false")}}); len(codes) > 0 {
				t.Fatal(codes)
			}
		}},
		// COPY FROM STDIN data, a data error quoting it, and CopyFail's
		// message.
		{"copy_in_data_and_copy_fail", "SEEDCOPYIN-7a8b", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			conn.simple("CREATE TEMP TABLE review2_copy (a text, b int)")
			conn.run(&pgproto3.Query{String: "COPY review2_copy FROM STDIN"}, &pgproto3.CopyData{Data: []byte(seed + "\t1\n")}, &pgproto3.CopyDone{})
			conn.run(&pgproto3.Query{String: "COPY review2_copy FROM STDIN"}, &pgproto3.CopyData{Data: []byte("x\t" + seed + "\n")}, &pgproto3.CopyDone{})
			conn.run(&pgproto3.Query{String: "COPY review2_copy FROM STDIN"}, &pgproto3.CopyFail{Message: seed})
			if values, _ := conn.simple("COPY review2_copy TO STDOUT"); len(values) != 0 {
				t.Logf("%q", values)
			}
		}},
		// A simple Query refused as a whole whose statements hold only
		// literals: Whole is normalized.
		{"whole_refused_plain_literals", "SEEDWHOLEOK-9c0d", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "analyst", "pw", "")
			defer conn.close()
			if _, codes := conn.simple("SELECT '" + seed + "'; SELECT address FROM bk.contacts WHERE address = '" + seed + "'"); len(codes) != 1 || codes[0] != "42501" {
				t.Fatalf("%v", codes)
			}
		}},
		// A statement name re-Parsed in one pipeline (Close, Parse).
		{"reparse_same_name_in_pipeline", "SEEDREPARSE-1e2f", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			if values, codes := conn.run(
				&pgproto3.Parse{Name: "s2", Query: "SELECT 'a" + seed + "'"}, &pgproto3.Close{ObjectType: 'S', Name: "s2"},
				&pgproto3.Parse{Name: "s2", Query: "SELECT 'b" + seed + "'"}, &pgproto3.Bind{PreparedStatement: "s2"}, &pgproto3.Execute{},
				&pgproto3.Sync{}); len(codes) > 0 || !contains(values, seed) {
				t.Fatalf("%q %v", values, codes)
			}
		}},
		// NOTIFY payloads and notices (RAISE) with the value.
		{"notify_and_notice", "SEEDNOTIFY-3a4b", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			conn.simple("LISTEN review2; NOTIFY review2, '" + seed + "'")
			conn.simple("DO $$BEGIN RAISE NOTICE '" + seed + "'; RAISE EXCEPTION '" + seed + "'; END$$")
		}},
		// The session's own application_name changed by SET: records keep
		// the startup one.
		{"set_application_name", "SEEDAPPNAME-5c6d", func(t *testing.T, seed string) {
			conn := reviewConnect(t, s, "bookkeeper", "pw", "")
			defer conn.close()
			conn.simple("SET application_name = '" + seed + "'")
			conn.simple("SELECT 1")
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
