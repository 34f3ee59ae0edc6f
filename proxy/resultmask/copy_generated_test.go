package resultmask_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestCopyTableWithGeneratedColumn: COPY table TO STDOUT without a column
// list leaves generated columns out, so the masks must follow the columns
// actually sent (a generated column before a protected one would
// otherwise shift every mask by one).
func TestCopyTableWithGeneratedColumn(t *testing.T) {
	db := newDatabase(t, `CREATE SCHEMA g;
		CREATE TABLE g.people (id int, label text GENERATED ALWAYS AS ('L' || id) STORED, mobile text, note text);
		INSERT INTO g.people (id, mobile, note) VALUES (1, '13812345678', 'n1');
		GRANT USAGE ON SCHEMA g TO PUBLIC; GRANT SELECT ON ALL TABLES IN SCHEMA g TO PUBLIC`)
	pf := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(pf, []byte("classes:\n  cn_mobile: [g.people.mobile]\nroles:\n  analyst: {rules: {cn_mobile: {mask: cn_mobile}}}\n"), 0o600)
	addr, _ := startProxy(t, db, pf)
	conn := connectAs(t, addr, db, "analyst", pgx.QueryExecModeSimpleProtocol)
	var out bytes.Buffer
	if _, err := conn.PgConn().CopyTo(pgtest.Context(t), &out, "COPY g.people TO STDOUT"); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "1\t138****5678\tn1" {
		t.Fatalf("COPY g.people as analyst: %q", got)
	}
}
