package main

// Leak review, round 3, end to end: the fingerprint field as an oracle
// for a value, and keyword values kept by the redacted form.
// TestAuditReview3Findings fails on the current code;
// TestAuditReview3Holds documents what was tried and held.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// recoverPIN tries every 6-digit PIN in tmpl (%s) against want, with
// hash as the oracle.
func recoverPIN(tmpl, want string, hash func(string) string) (string, bool) {
	for i := 0; i < 1000000; i++ {
		pin := fmt.Sprintf("%06d", i)
		if hash(strings.ReplaceAll(tmpl, "%s", pin)) == want {
			return pin, true
		}
	}
	return "", false
}

func pgFingerprint(s string) string {
	fp, _ := pg_query.Fingerprint(s)
	return fp
}

func TestAuditReview3Findings(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)

	// 1. NOTIFY's payload (and COMMENT's text, an enum label, LOAD's and
	// COPY's file or program, a trigger's arguments): the normalized text
	// "NOTIFY ch, $1" does not parse, so the record's fingerprint is
	// pg_query's unkeyed fingerprint of the original text, which hashes
	// the payload. From {sql, fingerprint} a 6-digit PIN comes back in 10^6
	// fingerprints (about a second). The analyst's refused NOTIFY is
	// recorded the same way.
	const pin, pinAnalyst = "482913", "730164"
	{
		conn := reviewConnect(t, s, "bookkeeper", "pw", "")
		if _, codes := conn.simple("NOTIFY review3_orders, '" + pin + "'"); len(codes) > 0 {
			t.Fatal(codes)
		}
		conn.close()
		conn = reviewConnect(t, s, "analyst", "pw", "")
		if _, codes := conn.simple("NOTIFY review3_pins, '" + pinAnalyst + "'"); len(codes) != 1 {
			t.Fatalf("want a refusal: %v", codes)
		}
		conn.close()
	}

	// 2. The fingerprint is cached by normalized text: another session's
	// NOTIFY of the same shape is recorded with the FIRST session's
	// fingerprint, a hash of the first session's payload.
	const first, second = "NOTIFY review3_shared, 'SEEDR3FIRST-5c1d'", "NOTIFY review3_shared, 'SEEDR3SECOND-8e2f'"
	{
		conn := reviewConnect(t, s, "postgres", "", "")
		conn.simple(first)
		conn.close()
		conn = reviewConnect(t, s, "bookkeeper", "pw", "")
		conn.simple(second)
		conn.close()
	}

	// 3. A boolean literal in a statement recorded redacted: any plain
	// literal holding a backslash (a Windows path) makes the statement
	// AmbiguousBackslash, and Redact keeps the keyword TRUE.
	{
		conn := reviewConnect(t, s, "bookkeeper", "pw", "")
		conn.simple("CREATE TEMP TABLE review3_flags (id int, hiv_positive boolean, scan text)")
		if _, codes := conn.simple("UPDATE review3_flags SET hiv_positive = true, scan = 'C:\\scans\\5.pdf' WHERE id = 5"); len(codes) > 0 {
			t.Fatal(codes)
		}
		conn.close()
	}

	// 4. A nested setting's value written as a keyword (on, off, true,
	// false, or any non-reserved word such as absolute): riskyParts
	// redacts the statement, and Redact keeps every keyword.
	const phrase = "= ABSOLUTE"
	{
		conn := reviewConnect(t, s, "postgres", "", "")
		if _, codes := conn.simple("ALTER ROLE intern SET myapp.hiv_positive = on"); len(codes) > 0 {
			t.Fatal(codes)
		}
		if _, codes := conn.simple("ALTER ROLE intern SET myapp.recovery_word = absolute"); len(codes) > 0 {
			t.Fatal(codes)
		}
		conn.simple("ALTER ROLE intern RESET ALL")
		conn.close()
	}

	s.stop()
	recs := readAudit(t, filepath.Join(dir, "audit.log"))
	files := reviewFiles(t, dir)

	t.Run("notify_payload_pin_recovered_from_fingerprint", func(t *testing.T) {
		for _, want := range []struct{ tmpl, pin string }{
			{"NOTIFY review3_orders, '%s'", pin},
			{"NOTIFY review3_pins, '%s'", pinAnalyst},
		} {
			found := false
			for _, e := range recs {
				if e.Type != audit.TypeStatement || !strings.HasPrefix(e.SQL, strings.SplitN(want.tmpl, "'", 2)[0]) {
					continue
				}
				found = true
				if e.Fingerprint == "" {
					continue
				}
				if got, ok := recoverPIN(want.tmpl, e.Fingerprint, pgFingerprint); ok {
					t.Errorf("record %d (%s, %s) {sql: %q, fingerprint: %s}: the payload is %s", e.Seq, e.Role, e.Decision, e.SQL, e.Fingerprint, got)
				}
			}
			if !found {
				t.Errorf("no record of %q", want.tmpl)
			}
		}
	})

	t.Run("fingerprint_of_another_sessions_payload", func(t *testing.T) {
		leaked := pgFingerprint(first)
		for _, e := range recs {
			if e.Role == "bookkeeper" && strings.HasPrefix(e.SQL, "NOTIFY review3_shared") && e.Fingerprint == leaked {
				t.Errorf("bookkeeper's record %d of %q carries %s, the fingerprint of postgres's %q", e.Seq, e.SQL, e.Fingerprint, first)
			}
		}
	})

	t.Run("boolean_kept_in_redacted_statement_with_backslash_literal", func(t *testing.T) {
		found := false
		for _, e := range recs {
			if e.Type == audit.TypeStatement && strings.HasPrefix(e.SQL, "UPDATE ? SET") {
				found = true
				if strings.Contains(e.SQL, "TRUE") {
					t.Errorf("record %d: %q (hiv_positive = true)", e.Seq, e.SQL)
				}
			}
		}
		if !found {
			t.Error("no redacted UPDATE record")
		}
	})

	t.Run("nested_set_keyword_value_kept_by_redact", func(t *testing.T) {
		checkNoSeed(t, files, phrase)
		for _, e := range recs {
			if e.Type == audit.TypeStatement && strings.HasPrefix(e.SQL, "ALTER ROLE ? SET") && strings.HasSuffix(e.SQL, "= ON") {
				t.Errorf("record %d: %q (myapp.hiv_positive = on)", e.Seq, e.SQL)
			}
		}
	})
}

func TestAuditReview3Holds(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	dir := t.TempDir()
	s := startAuditServer(t, c, dir, nil)

	const unparsedPIN = "591847"
	const unparsed = "SELEC * FROM bk.contacts WHERE pin = '%s'"
	seeds := []string{"SEEDR3NOTIFY-1a2b", "SEEDR3CURSOR-3c4d", "13912345679", "SEEDR3REASON-5e6f", "SEEDR3APP-7a8b", unparsedPIN}
	{
		conn := reviewConnect(t, s, "postgres", "", "")
		// An unparseable text with a 6-digit value: sql_hash is keyed.
		conn.simple(strings.ReplaceAll(unparsed, "%s", unparsedPIN))
		// Cursor moves and fetches: kind and rows from the command tag
		// (rows are those moved, not the count written).
		conn.simple("BEGIN")
		conn.simple("DECLARE review3_c CURSOR FOR SELECT 'SEEDR3CURSOR-3c4d' FROM generate_series(1, 5)")
		conn.simple("MOVE FORWARD 13912345679 IN review3_c")
		conn.simple("FETCH 13912345679 FROM review3_c")
		conn.simple("COMMIT")
		conn.close()
		// A refusal of a statement holding a literal, and a value in a
		// column alias the result layer quotes.
		conn = reviewConnect(t, s, "analyst", "pw", "")
		conn.simple("SELECT address FROM bk.contacts WHERE name = 'SEEDR3REASON-5e6f'")
		conn.simple("SELECT 'SEEDR3REASON-5e6f' AS x, address FROM bk.contacts")
		conn.simple("NOTIFY review3, 'SEEDR3NOTIFY-1a2b'")
		conn.close()
		// application_name set by SET and by set_config.
		conn = reviewConnect(t, s, "bookkeeper", "pw", "")
		conn.simple("SELECT set_config('application_name', 'SEEDR3APP-7a8b', false)")
		conn.simple("SELECT 1")
		conn.close()
	}

	// The metrics after all of it.
	resp, err := http.Get("http://" + s.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.stop()

	recs := readAudit(t, filepath.Join(dir, "audit.log"))
	files := reviewFiles(t, dir)
	files["metrics"] = string(metrics)
	for _, args := range [][]string{{"audit", "report"}, {"audit", "report", "--html"}} {
		code, out, errOut := runCmd(append(args, filepath.Join(dir, "audit.log"))...)
		if code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
		files[strings.Join(args, " ")] = out + errOut
	}

	t.Run("unparsed_sql_hash_is_keyed", func(t *testing.T) {
		found := false
		defer func() {
			if !found {
				t.Error("no record of the unparseable text")
			}
		}()
		for _, e := range recs {
			if e.SQLHash == "" || !strings.HasPrefix(e.SQL, "? * FROM") {
				continue
			}
			found = true
			if got, ok := recoverPIN(unparsed, e.SQLHash, func(s string) string {
				sum := sha256.Sum256([]byte(s))
				return hex.EncodeToString(sum[:])
			}); ok {
				t.Errorf("record %d sql_hash %s gives the value back: %s", e.Seq, e.SQLHash, got)
			}
		}
	})
	for _, seed := range seeds {
		t.Run("no_seed_"+seed, func(t *testing.T) { checkNoSeed(t, files, seed) })
	}
}
