package audit

// Leak review, round 5 (red-team helper, 2026-11-29): values that reached
// a record's sql — TRUE and FALSE in utility statements, trigger
// arguments written as names, and the inside of literals in texts whose
// literal boundaries are ambiguous. Each case records the value on the
// code before the fix.

import (
	"regexp"
	"strings"
	"testing"
)

var boolWord = regexp.MustCompile(`(?i)\b(true|false)\b`)

func TestLeakReview5BooleansInUtilityStatements(t *testing.T) {
	for _, sql := range []string{
		"PREPARE upd AS UPDATE patients SET hiv_positive = true WHERE id = 5",
		"EXECUTE upd_flag(4711, false)",
		"EXECUTE upd_flag(false)",
		"CREATE TABLE x AS SELECT 5 AS id, true AS hiv",
		"CREATE RULE r AS ON INSERT TO visits DO ALSO UPDATE patients SET hiv_positive = TRUE",
		"CREATE VIEW v AS SELECT id FROM patients WHERE hiv_positive = true",
		"CREATE INDEX i ON patients (id) WHERE hiv_positive = false",
		"ALTER TABLE patients ALTER COLUMN hiv_positive SET DEFAULT false",
		"ALTER TABLE patients ADD CONSTRAINT c CHECK (hiv_positive = false)",
		"CREATE TRIGGER tr AFTER INSERT ON visits FOR EACH ROW WHEN (NEW.hiv = true) EXECUTE FUNCTION f()",
		"SELECT id FROM patients WHERE hiv_positive IS TRUE",
	} {
		q := NewNormalizer(64).Normalize(sql, new([]byte))
		for _, text := range review2Texts(q) {
			if boolWord.MatchString(text) {
				t.Errorf("%q recorded as %q", sql, text)
			}
		}
	}
	// Names that merely contain the words stay.
	q := NewNormalizer(64).Normalize("SELECT truename, falsehood FROM t", new([]byte))
	if got := q.Parts[0].SQL; got != "SELECT truename, falsehood FROM t" {
		t.Errorf("names holding true/false recorded as %q", got)
	}
}

func TestLeakReview5TriggerArguments(t *testing.T) {
	fps := map[string]bool{}
	for _, v := range []string{"13912345678", "13912345679"} {
		for _, tmpl := range []string{
			`CREATE TRIGGER tr AFTER INSERT ON visits FOR EACH ROW EXECUTE FUNCTION sms_alert("%s", s3cret_api_token)`,
			`CREATE TRIGGER tr AFTER INSERT ON visits FOR EACH ROW EXECUTE PROCEDURE sms_alert(x%s)`,
		} {
			sql := strings.ReplaceAll(tmpl, "%s", v)
			q := NewNormalizer(64).Normalize(sql, new([]byte))
			for _, text := range review2Texts(q) {
				if strings.Contains(text, v) || strings.Contains(text, "s3cret_api_token") {
					t.Errorf("%q recorded as %q", sql, text)
				}
			}
			for _, p := range q.Parts {
				fps[p.Fingerprint] = true
			}
		}
	}
	if len(fps) != 1 || !fps[""] {
		t.Errorf("trigger statements got fingerprints %v; a fingerprint over the arguments would let them be guessed", fps)
	}
}

func TestLeakReview5AmbiguousLiterals(t *testing.T) {
	for _, c := range []struct {
		name, sql string
	}{
		// Read with standard_conforming_strings off, this is one literal;
		// token by token with it on, its inside became keywords and a $n.
		{"backslash_quote", `INSERT INTO notes VALUES ('Mr O\'Brien paid $13912345678 AND is NOT insured, O\'Neil')`},
		// In GBK, E4 B8 AD 5C are two characters; in UTF-8 中 and a backslash.
		{"gbk_trail_backslash", "INSERT INTO notes VALUES (E'\xe4\xb8\xad\\', 'paid $13912345678 NOT insured -- x')"},
	} {
		if !AmbiguousBackslash(c.sql) && !HighByteBackslash(c.sql) {
			t.Errorf("%s: not flagged as ambiguous, so it would be normalized as read", c.name)
		}
		st := UnparsedAmbiguous(c.sql)
		for _, bad := range []string{"13912345678", "NOT", "insured", "Brien"} {
			if strings.Contains(st.SQL, bad) {
				t.Errorf("%s: recorded as %q, which holds %q", c.name, st.SQL, bad)
			}
		}
		if !strings.HasPrefix(st.SQL, "INSERT INTO ? VALUES (") || !strings.HasSuffix(st.SQL, "…") || st.Hash == "" {
			t.Errorf("%s: recorded as %q (hash %q); want its keywords up to the first literal, then …", c.name, st.SQL, st.Hash)
		}
	}
}
