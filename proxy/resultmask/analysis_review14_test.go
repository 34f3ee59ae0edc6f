package resultmask_test

// Red-team round 14 on search by token: a restricted role (analyst, who
// sees ID numbers, mobile numbers and cards as tokens) must not learn the
// real value behind a token, nor use detokenization (or tokenization) as
// an oracle beyond "a row with this real value exists". Every test here
// FAILS while its attack succeeds.
//
// Both findings need a class the role sees in clear, the README's own
// pattern (auditor: {salary: clear}). A clear class is not "other values"
// for pgmantle's analysis: a UNION ALL of a tokenized column with a
// clear-class column is a plain copy of protected columns (direct, not
// mixed), so
//   - an equality of that column with a token literal or parameter is
//     served by detokenizing the token, and PostgreSQL compares the real
//     value with the clear-class rows too (parser/expr.go equality and
//     inList accept any direct, non-mixed value; parser/decide.go only
//     asks for the tokenized sources to be the same class, and skips
//     clear ones);
//   - its output is tokenized (or hashed) as a whole, so the clear-class
//     rows come out as the tokens of values of the client's choosing
//     (parser/decide.go outputPlan skips clear sources and refuses only
//     Mixed columns, whose other rows are clean).
// A clear class may also be written by the role (README: writes into
// protected columns are refused "unless the class is clear"), so the
// candidates are the analyst's own.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// rt14Policy is tokenPolicy plus contact_email, a class the analyst sees
// in clear: t.notes.email, a text column analyst may read and write.
const rt14Policy = `
classes:
  cn_id: [t.people.id_no, t.payroll.id_no]
  cn_mobile: [t.people.mobile]
  bank_card: [t.people.card]
  person_name: [t.people.name]
  location: [t.people.city]
  contact_email: [t.notes.email]
roles:
  analyst:
    rules:
      cn_id: tokenize
      cn_mobile: tokenize
      bank_card: tokenize
      person_name: {action: tokenize, keep_surname: true}
      location: hash
      contact_email: clear
`

// rt14Victim is the index of the person whose real ID number the attacks
// recover from its token.
const rt14Victim = 4

// rt14Proxy starts pgmantle (static keys) in front of the token schema
// with t.notes (id, email), which analyst may read and insert into.
func rt14Proxy(t *testing.T) (addr, db string, f *rtFixture) {
	t.Helper()
	data, ids := tokenData(120)
	db = newDatabase(t, tokenSchema, data, `
CREATE TABLE t.notes (id serial PRIMARY KEY, email text);
INSERT INTO t.notes (email) VALUES ('li@example.com'), ('wang@example.com');
GRANT SELECT, INSERT ON t.notes TO PUBLIC; GRANT USAGE ON SEQUENCE t.notes_id_seq TO PUBLIC;`)
	addr, _ = startProxyWith(t, db, writePolicy(t, rt14Policy), nil)
	direct := pgtest.Connect(t, pgtest.Cluster(t).DSN("postgres", "", db))
	analyst := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	f = &rtFixture{addr: addr, db: db, ids: ids}
	f.readTokens(t, analyst, direct)
	return addr, db, f
}

// rt14Candidates inserts, as analyst and through pgmantle, the 1000 ID
// numbers that share the victim's region code and birth date (what an
// analyst targeting a known person knows), each with its valid check
// character: the real one is among them, and nothing tells which.
func rt14Candidates(t *testing.T, c *rtConn, f *rtFixture) {
	t.Helper()
	first14 := f.ids[rt14Victim][:14]
	var vals []string
	for seq := range 1000 {
		first17 := fmt.Sprintf("%s%03d", first14, seq)
		vals = append(vals, fmt.Sprintf("('%s%c')", first17, checkChar(first17)))
	}
	sql := "INSERT INTO t.notes (email) VALUES " + strings.Join(vals, ", ")
	if o := c.simple(t, sql); o.err != nil {
		t.Fatalf("analyst's INSERT into the clear class: %v", o.err)
	}
}

// rt14ReadNote returns the email of note id, read by analyst in clear.
func rt14ReadNote(t *testing.T, c *rtConn, id string) string {
	t.Helper()
	o := c.simple(t, "SELECT email FROM t.notes WHERE id = "+id)
	if o.err != nil || len(o.rows) != 1 {
		t.Fatalf("reading note %s: %v %v", id, o.rows, o.err)
	}
	return o.rows[0][0]
}

// rt14Union is a column that copies cn_id (people.id_no) and the clear
// class contact_email (notes.email), with k the note's id (0 for people).
const rt14Union = "(SELECT id_no AS v, 0 AS k FROM t.people UNION ALL SELECT email, id FROM t.notes) u"

// TestAnalysisReview14ClearClassUnionDetokenizedLeak: the token search
// on a UNION ALL of id_no with a clear-class column. pgmantle detokenizes
// the token; PostgreSQL compares the real ID number with the analyst's
// 1000 candidates too and returns the note that holds it; the analyst
// reads that note in clear.
//
//	INSERT INTO t.notes (email) VALUES ('<region+birthdate>000<c>'), ... ('...999<c>');
//	SELECT u.k FROM (SELECT id_no AS v, 0 AS k FROM t.people
//	                 UNION ALL SELECT email, id FROM t.notes) u
//	WHERE u.v = '<token>' AND u.k > 0;          -- the note holding the real value
//	SELECT email FROM t.notes WHERE id = <k>;   -- the real ID number, in clear
func TestAnalysisReview14ClearClassUnionDetokenizedLeak(t *testing.T) {
	addr, db, f := rt14Proxy(t)
	c := rtDial(t, addr, db, nil)
	rt14Candidates(t, c, f)
	tok := f.idToks[rt14Victim]
	real := f.ids[rt14Victim]

	check := func(t *testing.T, what string, o rtOut) {
		t.Helper()
		t.Logf("%s: rows %v code %q", what, o.rows, o.code)
		f.noLeak(t, what, o.text())
		for _, r := range o.rows {
			if got := rt14ReadNote(t, c, r[0]); got == real {
				t.Errorf("LEAK (%s): the token %s found note %s, whose email (read in clear) is the real ID number %s", what, tok, r[0], got)
			}
		}
	}
	t.Run("Literal", func(t *testing.T) {
		check(t, "= literal", c.simple(t, fmt.Sprintf("SELECT u.k::text FROM %s WHERE u.v = '%s' AND u.k > 0", rt14Union, tok)))
	})
	t.Run("BindParameter", func(t *testing.T) {
		check(t, "= $1", c.params(t, "SELECT u.k::text FROM "+rt14Union+" WHERE u.v = $1 AND u.k > 0", [][]byte{[]byte(tok)}, nil, nil))
	})
	t.Run("InList", func(t *testing.T) {
		check(t, "IN list", c.simple(t, fmt.Sprintf("SELECT u.k::text FROM %s WHERE u.v IN ('%s', '%s') AND u.k > 0", rt14Union, f.idToks[0], tok)))
	})
	t.Run("NotDistinctFrom", func(t *testing.T) {
		check(t, "IS NOT DISTINCT FROM", c.simple(t, fmt.Sprintf("SELECT u.k::text FROM %s WHERE u.v IS NOT DISTINCT FROM '%s' AND u.k > 0", rt14Union, tok)))
	})
	t.Run("AnySubquery", func(t *testing.T) {
		// The union inside a sublink: '<token>' = ANY (...) is the same
		// literal equality; each note is tested on its own.
		o := c.simple(t, fmt.Sprintf("SELECT n.id::text FROM t.notes n WHERE '%s' = ANY (SELECT id_no FROM t.people WHERE false UNION ALL SELECT email FROM t.notes m WHERE m.id = n.id)", tok))
		check(t, "= ANY (union)", o)
	})
}

// TestAnalysisReview14ClearClassUnionTokenizesChosenLeak: the same
// column as output. Its rows from the clear class are tokenized with
// cn_id's key, so each of the analyst's candidates comes back as the
// token it would have in t.people: the one equal to the victim's token is
// the real ID number. No search by token is needed. The hash class
// (location) confirms a guessed city the same way.
func TestAnalysisReview14ClearClassUnionTokenizesChosenLeak(t *testing.T) {
	addr, db, f := rt14Proxy(t)
	c := rtDial(t, addr, db, nil)
	rt14Candidates(t, c, f)
	tok := f.idToks[rt14Victim]

	t.Run("TokenizeCnID", func(t *testing.T) {
		o := c.simple(t, "SELECT u.v, u.k::text FROM (SELECT id_no AS v, 0 AS k FROM t.people WHERE false UNION ALL SELECT email, id FROM t.notes) u")
		t.Logf("%d rows, code %q", len(o.rows), o.code)
		f.noLeak(t, "tokens of the clear class", o.text())
		for _, r := range o.rows {
			if r[0] == tok {
				got := rt14ReadNote(t, c, r[1])
				t.Errorf("LEAK (UNION ALL of id_no with a clear-class column): note %s's email comes out as %s, the victim's token; read in clear it is %s (real %s)",
					r[1], tok, got, f.ids[rt14Victim])
			}
		}
	})
	t.Run("HashLocation", func(t *testing.T) {
		if o := c.simple(t, "INSERT INTO t.notes (email) VALUES ('shanghai'), ('beijing')"); o.err != nil {
			t.Fatalf("insert: %v", o.err)
		}
		o := c.simple(t, "SELECT city FROM t.people WHERE id = 1 UNION ALL SELECT email FROM t.notes WHERE email IN ('shanghai', 'beijing')")
		t.Logf("rows %v code %q", o.rows, o.code)
		f.noLeak(t, "hash of the clear class", o.text())
		if o.err == nil && len(o.rows) == 3 {
			// one of the two guesses hashes like row 1's city
			city := oneColumn(t, connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol), "SELECT city FROM t.people WHERE id = 1")[0]
			n := 0
			for _, r := range o.rows {
				if r[0] == city {
					n++
				}
			}
			if n == 2 {
				t.Errorf("CONFIRMATION ORACLE (UNION ALL of a hashed column with a clear-class column): the guess 'shanghai' comes out as row 1's city pseudonym %s", city)
			}
		}
	})
}
