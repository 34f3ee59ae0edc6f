package resultmask_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// FuzzAnalysisNoLeak generates statements over the test schema from the
// fuzzer's bytes — joins, expressions, aggregates, predicates, grouping,
// ordering, set operations over protected and clean columns — and sends
// each through pgmantle as the analyst. Whatever pgmantle allows or
// refuses, nothing the client receives (rows, errors, notices) may hold a
// seeded protected value.
func FuzzAnalysisNoLeak(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x01\x02\x03", "\x05\x11\x07\x02\x09\x01", "\xff\xfe\xfd\xfc\xfb\xfa\xf9",
		"\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b", "\x10\x20\x30\x40\x50\x60\x70\x80\x90", "\x03\x03\x03\x03\x03\x03\x03\x03"} {
		f.Add([]byte(seed))
	}
	addr, db, _, _ := analysisProxy(f)
	ctx := pgtest.Context(f)
	var received bytes.Buffer
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("postgres://analyst:%s@%s/%s?sslmode=disable", password, addr, db))
	if err != nil {
		f.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		fmt.Fprintf(&received, "%s %s %s %s\n", n.Message, n.Detail, n.Hint, n.Where)
	}
	var conn *pgconn.PgConn
	f.Fuzz(func(t *testing.T, data []byte) {
		if conn == nil || conn.IsClosed() {
			if conn, err = pgconn.ConnectConfig(ctx, cfg); err != nil {
				t.Fatal(err)
			}
		}
		sql := generate(data)
		received.Reset()
		res, err := conn.Exec(ctx, sql).ReadAll()
		for _, r := range res {
			appendRows(&received, r.Rows)
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			fmt.Fprintf(&received, "%s %s %s %s\n", pe.Message, pe.Detail, pe.Hint, pe.Where)
		}
		if v, class := findSecret(received.Bytes(), nil); v != "" {
			t.Fatalf("%s\nthe client received a %s value", sql, class)
		}
		conn.Exec(ctx, "ROLLBACK").ReadAll()
	})
}

// genTable is a relation the generator draws from, with its columns.
type genTable struct {
	name string
	cols []string
}

var genTables = []genTable{
	{"bk.contacts", []string{"id", "company_id", "name", "id_no", "mobile", "email", "address", "birthday"}},
	{"bk.payroll", []string{"id", "company_id", "employee", "id_no", "month", "amount", "bonus"}},
	{"bk.client_companies", []string{"id", "name", "uscc", "legal_rep", "address"}},
	{"bk.invoices", []string{"id", "company_id", "buyer_uscc", "issued_on", "amount"}},
	{"bk.bank_accounts", []string{"id", "company_id", "bank", "card_no"}},
	{"bk.contact_directory", []string{"contact", "phone", "company"}},
	{"bk.contact_regions", []string{"id", "region", "email_upper"}},
	{"staging.contacts", []string{"id", "name", "id_no", "note"}},
}

var (
	genExprs = []string{"%s", "%s", "%s", "upper(%s::text)", "length(%s::text)", "coalesce(%s::text, '')", "count(%s)",
		"count(DISTINCT %s)", "min(%s)", "max(%s)", "%s::text", "md5(%s::text)", "left(%s::text, 3)", "%s IS NULL",
		"row_number() OVER (ORDER BY %s)", "string_agg(%s::text, ',')", "(SELECT %s)", "CASE WHEN %s IS NULL THEN 1 ELSE 2 END"}
	genOps      = []string{"=", "<>", "<", ">", "LIKE", "~", ">="}
	genLiterals = []string{"'310105198807158033'", "'13812345678'", "'张伟明'", "'3101%'", "1", "'1988-07-15'", "'x'", "12345.67"}
)

// generate turns fuzz bytes into one SELECT over the test schema.
func generate(data []byte) string {
	g := &gen{data: data}
	q := g.selectStmt()
	if g.pick(4) == 0 {
		q += " UNION " + g.selectStmt()
	}
	return q
}

type gen struct {
	data []byte
	pos  int
}

func (g *gen) pick(n int) int {
	if g.pos >= len(g.data) {
		g.pos++
		return g.pos % n
	}
	b := g.data[g.pos]
	g.pos++
	return int(b) % n
}

func (g *gen) selectStmt() string {
	t1 := genTables[g.pick(len(genTables))]
	from := t1.name + " a"
	aliases := []genTable{t1}
	if g.pick(3) == 0 {
		t2 := genTables[g.pick(len(genTables))]
		from += fmt.Sprintf(" JOIN %s b ON a.%s = b.%s", t2.name, t1.cols[g.pick(len(t1.cols))], t2.cols[g.pick(len(t2.cols))])
		aliases = append(aliases, t2)
	}
	col := func() string {
		i := g.pick(len(aliases))
		return fmt.Sprintf("%s.%s", string(rune('a'+i)), aliases[i].cols[g.pick(len(aliases[i].cols))])
	}
	var items []string
	for range 1 + g.pick(3) {
		items = append(items, fmt.Sprintf(genExprs[g.pick(len(genExprs))], col()))
	}
	q := "SELECT "
	if g.pick(6) == 0 {
		q += "DISTINCT "
	}
	q += strings.Join(items, ", ") + " FROM " + from
	switch g.pick(4) {
	case 0:
		q += fmt.Sprintf(" WHERE %s %s %s", col(), genOps[g.pick(len(genOps))], genLiterals[g.pick(len(genLiterals))])
	case 1:
		q += fmt.Sprintf(" WHERE %s IN (%s, %s)", col(), genLiterals[g.pick(len(genLiterals))], genLiterals[g.pick(len(genLiterals))])
	}
	switch g.pick(4) {
	case 0:
		q += " GROUP BY " + col()
	case 1:
		q += " ORDER BY " + col()
	}
	return q
}
