package audit

// Leak review, round 3: the fingerprint and sql_hash fields, and what
// Redact keeps. TestLeakReview3Findings holds the attacks that still get
// a value (or a hash a value can be recovered from) into a record; they
// fail on the current code. TestLeakReview3Holds the ones that held.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// pinTexts are statements whose normalized text does not parse (a $n
// where the grammar wants a literal), so derive fingerprints the original
// text instead; %s is where a 6-digit PIN goes, quoted as written.
var pinTexts = map[string]string{
	"notify_payload":          "NOTIFY orders, '%s'",
	"comment_is":              "COMMENT ON TABLE accounts IS '%s'",
	"security_label":          "SECURITY LABEL FOR selinux ON TABLE accounts IS '%s'",
	"enum_label":              "CREATE TYPE pin AS ENUM ('%s')",
	"alter_type_add_value":    "ALTER TYPE pin ADD VALUE '%s'",
	"load_file":               "LOAD '/lib/%s'",
	"copy_from_program":       "COPY accounts FROM PROGRAM 'unzip -P %s dump.zip'",
	"copy_to_file":            "COPY accounts TO '/exports/%s.csv'",
	"create_trigger_argument": "CREATE TRIGGER tr AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION f('%s')",
}

// fill puts a value into a normalized text's first $n, as written in
// the original (quoted).
func fillQuoted(norm, v string) string {
	return strings.Replace(norm, "$1", "'"+v+"'", 1)
}

// bruteForcePIN tries every 6-digit PIN: the record's sql gives the
// template, pg_query.Fingerprint (unkeyed: XXH3 over the tree) the
// oracle. It returns the PIN whose text fingerprints to fp.
func bruteForcePIN(try func(pin string) string, fp string) (string, bool) {
	for i := 0; i < 1000000; i++ {
		pin := fmt.Sprintf("%06d", i)
		if try(pin) == fp {
			return pin, true
		}
	}
	return "", false
}

func TestLeakReview3Findings(t *testing.T) {
	// 1. The fingerprint of a statement whose normalized text does not
	// parse (NOTIFY c, $1; COMMENT ... IS $1; ENUM ($1); LOAD $1; COPY ...
	// PROGRAM $1; trigger arguments) is pg_query's fingerprint of the
	// ORIGINAL text (normalize.go derive: "Parse the original statement
	// instead; nothing of it is kept but its kind, relation names and
	// fingerprint"). pg_query's fingerprint hashes these values (they are
	// strings of the tree, not A_Const), unkeyed: the record's sql is the
	// template and a 6-digit PIN falls to 10^6 fingerprints (~1 s).
	for name, tmpl := range pinTexts {
		t.Run("fingerprint_brute_force_"+name, func(t *testing.T) {
			secret := "482913"
			sql := fmt.Sprintf(tmpl, secret)
			q := NewNormalizer(64).Normalize(sql, new([]byte))
			if q.Parts == nil || q.Parts[0].Fingerprint == "" {
				return // no fingerprint recorded: nothing to invert
			}
			st := q.Parts[0]
			if strings.Contains(st.SQL, secret) {
				t.Fatalf("the sql itself holds the value: %q", st.SQL)
			}
			// The attacker sees st.SQL and st.Fingerprint only.
			if pin, ok := bruteForcePIN(func(pin string) string {
				fp, _ := pg_query.Fingerprint(strings.ReplaceAll(tmpl, "%s", pin))
				return fp
			}, st.Fingerprint); ok {
				t.Errorf("record {sql: %q, fingerprint: %s} gives the value back: %s", st.SQL, st.Fingerprint, pin)
			}
		})
	}

	// 2. The same fingerprint, cached by normalized text (Describe's
	// shape cache): a second text of the same shape is recorded with the
	// FIRST text's fingerprint, a hash of another client's value.
	t.Run("fingerprint_cache_gives_another_texts_value_hash", func(t *testing.T) {
		n := NewNormalizer(64)
		first := "NOTIFY orders, '111111'"
		second := "NOTIFY orders, '222222'"
		n.Normalize(first, new([]byte))
		q := n.Normalize(second, new([]byte))
		fp1, _ := pg_query.Fingerprint(first)
		fp2, _ := pg_query.Fingerprint(second)
		if fp1 != fp2 && q.Parts[0].Fingerprint == fp1 {
			t.Errorf("the record of %q carries %s, the fingerprint of %q", second, fp1, first)
		}
	})

	// 3. Redact keeps every keyword, also where a keyword is the value:
	// the booleans TRUE and FALSE (literal values), ON/OFF, and words of a
	// value list. Statements are redacted when they cannot be parsed,
	// when a plain literal holds a backslash (AmbiguousBackslash: any
	// UPDATE with a Windows path or a regex), when a backslash follows a
	// non-ASCII byte (HighByteBackslash), and when their values may be
	// written as names (riskyParts).
	type redaction struct {
		sql   string
		value []string // the values, as Redact would spell them
		via   func(sql string) *Query
	}
	normalize := func(sql string) *Query { return NewNormalizer(64).Normalize(sql, new([]byte)) }
	unparsed := func(sql string) *Query { return &Query{Unparsed: Unparsed(sql)} }
	redactions := map[string]redaction{
		"boolean_in_statement_with_backslash_literal": {
			"UPDATE patients SET hiv_positive = true, scan = 'C:\\scans\\5.pdf' WHERE id = 5", []string{"TRUE"},
			func(sql string) *Query {
				if !AmbiguousBackslash(sql) {
					t.Fatalf("not ambiguous: %q", sql)
				}
				return unparsed(sql)
			}},
		"boolean_in_statement_with_high_byte_backslash": {
			"UPDATE patients SET hiv_positive = false, note = E'é\\n' WHERE id = 5", []string{"FALSE"},
			func(sql string) *Query {
				if !HighByteBackslash(sql) {
					t.Fatalf("no high-byte backslash: %q", sql)
				}
				return unparsed(sql)
			}},
		"boolean_in_unparseable_statement": {
			"UPDATE patients SET hiv_positive = true WHERE id = 5 AND", []string{"TRUE"}, normalize},
		"boolean_in_insert_with_syntax_error": {
			"INSERT INTO patients (id, hiv_positive, pregnant) VALUES (5, false, true", []string{"FALSE , TRUE"}, normalize},
		"alter_role_set_keyword_list": {
			"ALTER ROLE app SET myapp.recovery_words = access, action, admin, always, absolute, zone", []string{"ACCESS , ACTION , ADMIN , ALWAYS , ABSOLUTE , ZONE"}, normalize},
		"alter_system_set_boolean_word": {
			"ALTER SYSTEM SET myapp.is_vip = on", []string{"= ON"}, normalize},
		"copy_null_keyword": {
			"COPY t FROM STDIN WITH (FORMAT csv, NULL none)", []string{"NULL NONE"}, normalize},
	}
	for name, r := range redactions {
		t.Run("redact_keeps_keyword_value_"+name, func(t *testing.T) {
			for _, text := range review2Texts(r.via(r.sql)) {
				for _, v := range r.value {
					if strings.Contains(text, v) {
						t.Errorf("%q is recorded as %q: the value %q is kept", r.sql, text, v)
						return
					}
				}
			}
		})
	}
}

func TestLeakReview3Holds(t *testing.T) {
	// sql_hash is keyed (HMAC under a process or key-source key): the
	// SHA-256 of guesses does not match it.
	t.Run("sql_hash_not_plain_sha256", func(t *testing.T) {
		for _, sql := range []string{
			"SELEC * FROM t WHERE pin = '482913'",
			"ALTER ROLE app SET myapp.pin = \"482913\"",
			"UPDATE t SET pin = '482913' WHERE note = 'a\\b'",
		} {
			q := NewNormalizer(64).Normalize(sql, new([]byte))
			if AmbiguousBackslash(sql) {
				q = &Query{Unparsed: Unparsed(sql)}
			}
			for _, st := range append(q.Parts, q.Unparsed) {
				if st.Hash == "" {
					continue
				}
				sum := sha256.Sum256([]byte(sql))
				if st.Hash == hex.EncodeToString(sum[:]) {
					t.Errorf("%q: sql_hash is the plain SHA-256 of the text", sql)
				}
			}
		}
	})

	// Fingerprints of statements whose normalized text parses do not
	// depend on their values (pg_query skips A_Const), nor do those of
	// statements recorded redacted (the fingerprint is left out).
	t.Run("fingerprint_independent_of_value", func(t *testing.T) {
		for _, tmpl := range []string{
			"SELECT * FROM t WHERE pin = '%s'",
			"SELECT * FROM t WHERE pin = %s",
			"UPDATE t SET pin = '%s' WHERE id = 1",
			"INSERT INTO t VALUES ('%s', -(%s))",
			"SET myapp.pin = '%s'",
			"PREPARE TRANSACTION '%s'",
			"CREATE ROLE bob PASSWORD '%s'",
			"ALTER ROLE app SET myapp.pin = \"%s\"",
			"COPY t FROM STDIN WITH (FORMAT csv, NULL '%s')",
			"CREATE USER MAPPING FOR bob SERVER s OPTIONS (password '%s')",
			"CREATE SEQUENCE s START %s",
			"SELECT 1::varchar(%s)",
			"SELECT * FROM t LIMIT %s",
		} {
			fps := map[string]bool{}
			for _, v := range []string{"482913", "173902"} {
				q := NewNormalizer(64).Normalize(strings.ReplaceAll(tmpl, "%s", v), new([]byte))
				var fp []string
				for _, p := range q.Parts {
					fp = append(fp, p.Fingerprint)
				}
				if q.Whole != nil {
					fp = append(fp, q.Whole.Fingerprint)
				}
				fps[strings.Join(fp, "|")] = true
			}
			if len(fps) != 1 {
				t.Errorf("%q: fingerprints differ with the value: %v", tmpl, fps)
			}
		}
	})

	// Booleans in statements that parse are replaced by Normalize.
	t.Run("boolean_in_parsed_statement", func(t *testing.T) {
		for _, sql := range []string{
			"UPDATE patients SET hiv_positive = true WHERE id = 5",
			"INSERT INTO patients (id, hiv_positive) VALUES (5, FALSE)",
			"SELECT * FROM patients WHERE hiv_positive = true",
		} {
			for _, text := range review2Texts(NewNormalizer(64).Normalize(sql, new([]byte))) {
				if strings.Contains(strings.ToUpper(text), "TRUE") || strings.Contains(strings.ToUpper(text), "FALSE") {
					t.Errorf("%q recorded as %q", sql, text)
				}
			}
		}
	})

	// Redact's short operators and punctuation cannot spell digits or
	// letters: numbers in every spelling become ?.
	t.Run("redact_short_tokens", func(t *testing.T) {
		for _, sql := range []string{
			"SELEC -5, .5, 5., 1e5, 0x1F, 1_000, B'01', X'1F', $1, -(91234)",
			"SELEC 9 . 1 . 2 . 3 . 4",
			"SELEC ~ 91234 !! 91234 @ 91234",
		} {
			red := Redact(sql)
			for _, c := range "0234567891" {
				if strings.ContainsRune(strings.ReplaceAll(red, "$1", ""), c) {
					t.Errorf("%q redacted to %q", sql, red)
					break
				}
			}
		}
	})

	// The tables field holds names only: a value cannot become a RangeVar.
	t.Run("tables_from_values", func(t *testing.T) {
		for _, sql := range []string{
			"SELECT * FROM t WHERE a = '91234'::regclass::text",
			"COPY (SELECT '91234') TO STDOUT",
			"NOTIFY orders, '91234'",
			"SELECT * FROM xmltable('/91234' PASSING '<a/>' COLUMNS a text)",
		} {
			q := NewNormalizer(64).Normalize(sql, new([]byte))
			for _, p := range q.Parts {
				for _, tb := range p.Tables {
					if strings.Contains(tb, "91234") {
						t.Errorf("%q: tables %v", sql, p.Tables)
					}
				}
			}
		}
	})
}
