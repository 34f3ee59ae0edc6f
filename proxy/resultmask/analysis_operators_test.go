package resultmask_test

import (
	"testing"
)

// rtOpSchema: operators a DBA defined over SQL functions, named like the
// built-in comparisons. An operator PostgreSQL picks by name — written,
// or implied by BETWEEN (<=, >=), CASE x WHEN (=), JOIN USING and NATURAL
// JOIN (=), IN and ANY with a subquery (=), ORDER BY ... USING — may be
// such a one (for its types, or ahead of pg_catalog's on the
// search_path), and its function runs outside the policy's allow-list.
const rtOpSchema = `
CREATE SCHEMA ro;
CREATE TABLE ro.t (id int, note text);
INSERT INTO ro.t VALUES (1, 'a'), (2, 'b');
CREATE FUNCTION ro.eq(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT a OPERATOR(pg_catalog.=) b';
CREATE FUNCTION ro.le(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT a OPERATOR(pg_catalog.<=) b';
CREATE FUNCTION ro.lt(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT a OPERATOR(pg_catalog.<) b';
CREATE OPERATOR ro.= (LEFTARG = int, RIGHTARG = int, FUNCTION = ro.eq);
CREATE OPERATOR ro.<= (LEFTARG = int, RIGHTARG = int, FUNCTION = ro.le);
CREATE OPERATOR ro.< (LEFTARG = int, RIGHTARG = int, FUNCTION = ro.lt);
GRANT USAGE ON SCHEMA ro TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA ro TO PUBLIC;
`

// TestAnalysisImplicitOperators: every operator a restricted statement
// makes PostgreSQL look up by name is checked against the user-defined
// ones, not only those written (before, BETWEEN, CASE x WHEN, USING,
// IN (subquery) and ORDER BY ... USING went through unchecked).
func TestAnalysisImplicitOperators(t *testing.T) {
	addr, db := rtProxy(t, rtOpSchema, "classes:\n  person_name: [ro.t.note]\n  cn_id: []\n  salary: []\n"+rtAnalystRoles)
	rtAllRefused(t, addr, db, []string{
		"SELECT id FROM ro.t WHERE id = 1",
		"SELECT id FROM ro.t WHERE id BETWEEN 1 AND 2",
		"SELECT id FROM ro.t WHERE id NOT BETWEEN SYMMETRIC 2 AND 1",
		"SELECT CASE id WHEN 1 THEN 'one' END FROM ro.t",
		"SELECT a.id FROM ro.t a JOIN ro.t b USING (id)",
		"SELECT a.id FROM ro.t a NATURAL JOIN (SELECT id FROM ro.t) b",
		"SELECT id FROM ro.t WHERE id IN (SELECT id FROM ro.t)",
		"SELECT id FROM ro.t WHERE id < ANY (SELECT id FROM ro.t)",
		"SELECT id FROM ro.t ORDER BY id USING <",
		"SELECT string_agg(note, ',' ORDER BY id USING <) FROM ro.t",
		"SELECT id, rank() OVER (ORDER BY id USING <) FROM ro.t",
	})
	// Operators no user-defined one is named like stay available.
	if got, err := rt16Run(t, addr, db, "analyst", "SELECT id FROM ro.t WHERE id > 1 ORDER BY id DESC"); err != nil {
		t.Errorf("a built-in operator of a name no user operator has: %v (%s)", err, got)
	}
}
