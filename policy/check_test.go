package policy

import (
	"strings"
	"testing"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgcluster.Options{}) }

// bookkeepingSnapshot loads the example schema and roles into the test
// cluster and returns a catalog snapshot of it.
func bookkeepingSnapshot(t *testing.T) *catalog.Snapshot {
	t.Helper()
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	c.Exec(ctx, "DROP SCHEMA IF EXISTS bk CASCADE")
	if err := c.Exec(ctx, bookkeeping.Schema); err != nil {
		t.Fatal(err)
	}
	for _, r := range bookkeeping.Roles {
		c.Exec(ctx, "DO $$BEGIN CREATE ROLE "+r+"; EXCEPTION WHEN duplicate_object THEN NULL; END$$")
	}
	conn := pgtest.Connect(t, c.DSN("postgres", "", "postgres"))
	snap, err := catalog.Load(ctx, conn, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestCheckBookkeeping(t *testing.T) {
	snap := bookkeepingSnapshot(t)
	p, err := Load("testdata/bookkeeping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(snap); err != nil {
		t.Fatalf("the example policy does not fit the example schema:\n%v", err)
	}
}

// TestCheckReportsEveryProblem: unknown tables and columns, a mask that
// does not fit the column type, a column in two classes and a role that
// does not exist are all reported, each with its line.
func TestCheckReportsEveryProblem(t *testing.T) {
	snap := bookkeepingSnapshot(t)
	p, err := Parse("c.yaml", []byte(`classes:
  cn_id: [bk.contacts.id_no, bk.nosuch.id_no]
  salary: [bk.payroll.amount, bk.payroll.nosuch]
  person_name: [bk.contacts.name, bk.contacts.id_no]
roles:
  analyst:
    rules:
      salary: {mask: cn_name}
  ghost_role:
    rules: {"*": deny}
`))
	if err != nil {
		t.Fatal(err)
	}
	err = p.Check(snap)
	if err == nil {
		t.Fatal("bad policy passed the check")
	}
	for _, want := range []string{
		"c.yaml:2: class cn_id: unknown table bk.nosuch",
		"c.yaml:3: class salary: unknown column bk.payroll.nosuch",
		"c.yaml:4: column bk.contacts.id_no is tagged with two classes, cn_id and person_name",
		"c.yaml:8: role analyst: mask cn_name does not accept column bk.payroll.amount of type numeric(12,2)",
		"c.yaml:9: role ghost_role does not exist in database postgres",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
