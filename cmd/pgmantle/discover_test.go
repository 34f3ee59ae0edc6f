package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"

	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/masking"
)

// TestDiscover fills the bookkeeping schema with synthetic data and checks
// that discover proposes every personal-data column with its class and
// nothing for the others (precision and recall are logged).
func TestDiscover(t *testing.T) {
	c := pgtest.Cluster(t)
	seedBookkeeping(t, c)
	code, out, errOut := runCmd("discover", "--dsn", c.DSN("postgres", "", "postgres"), "--rows", "200")
	if code != 0 {
		t.Fatalf("discover (%d): %s", code, errOut)
	}
	if !strings.Contains(errOut, "proposed") {
		t.Errorf("no progress summary on stderr: %q", errOut)
	}
	var proposal struct {
		Classes map[string][]string `yaml:"classes"`
	}
	if err := yaml.Unmarshal([]byte(out), &proposal); err != nil {
		t.Fatalf("proposal is not YAML: %v\n%s", err, out)
	}
	want := map[string]string{
		"bk.contacts.id_no": "cn_id", "bk.payroll.id_no": "cn_id", "bk.contacts.mobile": "cn_mobile",
		"bk.contacts.name": "person_name", "bk.payroll.employee": "person_name", "bk.client_companies.legal_rep": "person_name",
		"bk.bank_accounts.card_no": "bank_card", "bk.payroll.amount": "salary", "bk.payroll.bonus": "salary",
		"bk.contacts.email": "email", "bk.contacts.address": "address", "bk.client_companies.address": "address",
		"bk.contacts.birthday": "birthday", "bk.client_companies.uscc": "uscc",
	}
	got := map[string]string{}
	for class, cols := range proposal.Classes {
		for _, col := range cols {
			if strings.HasPrefix(col, "bk.") {
				got[col] = class
			}
		}
	}
	tp := 0
	var wrong []string
	for col, class := range got {
		if want[col] == class {
			tp++
		} else {
			wrong = append(wrong, fmt.Sprintf("%s as %s", col, class))
		}
	}
	var missed []string
	for col, class := range want {
		if got[col] != class {
			missed = append(missed, col+" ("+class+")")
		}
	}
	sort.Strings(wrong)
	sort.Strings(missed)
	t.Logf("precision %d/%d, recall %d/%d", tp, len(got), tp, len(want))
	if len(wrong) > 0 || len(missed) > 0 {
		t.Errorf("wrongly proposed: %v; missed: %v\n%s", wrong, missed, out)
	}
	if !strings.Contains(out, "# 100% of 200 sampled values are resident ID numbers") {
		t.Errorf("no evidence comment:\n%s", out)
	}
}

// seedBookkeeping fills the bookkeeping schema with 300 deterministic
// synthetic rows per table (valid IDs, cards and USCCs).
func seedBookkeeping(t *testing.T, c *pgcluster.Cluster) {
	t.Helper()
	ctx := pgtest.Context(t)
	c.Exec(ctx, "DROP SCHEMA IF EXISTS bk CASCADE")
	if err := c.Exec(ctx, bookkeeping.Schema); err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, c.DSN("postgres", "", "postgres"))
	r := rand.New(rand.NewPCG(7, 11))
	digits := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	id := func() string {
		for {
			s := fmt.Sprintf("3101%02d%04d%02d%02d%03d", r.IntN(20), 1950+r.IntN(55), 1+r.IntN(12), 1+r.IntN(28), r.IntN(1000))
			if ch, ok := masking.CNIDCheckChar(s); ok {
				return s + string(ch)
			}
		}
	}
	surnames, given := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"), []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超")
	name := func() string {
		n := string(surnames[r.IntN(len(surnames))]) + string(given[r.IntN(len(given))])
		if r.IntN(2) == 0 {
			n += string(given[r.IntN(len(given))])
		}
		return n
	}
	address := func() string {
		return fmt.Sprintf("上海市%s%s%d号", []string{"浦东新区", "徐汇区", "静安区"}[r.IntN(3)], []string{"世纪大道", "南京西路", "虹梅路"}[r.IntN(3)], 1+r.IntN(999))
	}
	uscc := func() string {
		const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
		for {
			s := "9131" + digits(4)
			for i := 0; i < 9; i++ {
				s += string(chars[r.IntN(len(chars))])
			}
			if ch, ok := masking.USCCCheckChar(s); ok {
				return s + string(ch)
			}
		}
	}
	card := func() string {
		p := "622202" + digits(9)
		d, _ := masking.LuhnCheckDigit(p)
		return p + string(d)
	}
	const n = 300
	var companies, contacts, accounts, payroll [][]any
	for i := 1; i <= n; i++ {
		companies = append(companies, []any{i, fmt.Sprintf("上海%s会计服务有限公司", name()), uscc(), name(), address()})
		contacts = append(contacts, []any{i, i, name(), id(), "1" + string("3589"[r.IntN(4)]) + digits(9),
			fmt.Sprintf("u%s@163.com", digits(5)), address(), time.Date(1960+r.IntN(40), 1, 1+r.IntN(28), 0, 0, 0, 0, time.UTC)})
		accounts = append(accounts, []any{i, i, "中国工商银行上海分行", card(), time.Now()})
		payroll = append(payroll, []any{i, i, name(), id(), time.Date(2026, time.Month(1+r.IntN(11)), 1, 0, 0, 0, 0, time.UTC),
			fmt.Sprintf("%d.00", 5000+r.IntN(30000)), r.IntN(5000)})
	}
	for _, ins := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"client_companies", []string{"id", "name", "uscc", "legal_rep", "address"}, companies},
		{"contacts", []string{"id", "company_id", "name", "id_no", "mobile", "email", "address", "birthday"}, contacts},
		{"bank_accounts", []string{"id", "company_id", "bank", "card_no", "opened_at"}, accounts},
		{"payroll", []string{"id", "company_id", "employee", "id_no", "month", "amount", "bonus"}, payroll},
	} {
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"bk", ins.table}, ins.cols, pgx.CopyFromRows(ins.rows)); err != nil {
			t.Fatalf("%s: %v", ins.table, err)
		}
	}
	conn.Exec(ctx, "ANALYZE")

}
