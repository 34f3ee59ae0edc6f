package discover

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pgmantle/pgmantle/masking"
)

func TestValidators(t *testing.T) {
	yes := map[string][]string{
		"cn_id":    {"11010519491231002X", "310105199003078032", "31010519900307803２", " 11010519491231002x ", "310105900307803"},
		"mobile":   {"13812345678", "+86 138 1234 5678", "0086-13812345678", "１３８１２３４５６７８"},
		"card":     {"6222021234567894", "6222 0212 3456 7894", "4111111111111111"},
		"email":    {"zhang.wei@163.com", "a+b@example.com.cn"},
		"passport": {"E12345678", "EA1234567", "G12345678", "H1234567890"},
		"name":     {"张伟", "欧阳娜娜", "王小明", "阿卜杜·热合曼"},
		"address":  {"上海市浦东新区世纪大道100号", "上海市徐汇区漕溪北路88弄3号502室"},
	}
	no := map[string][]string{
		"cn_id":    {"310105199003078033", "310105199002308032", "11010519491231002", "abcdefghijklmnopqr", "000000000000000000"},
		"mobile":   {"12812345678", "1381234567", "23812345678", "138-1234-567a"},
		"card":     {"6222021234567890", "622202123456789", "12345678901234567890"},
		"email":    {"zhang@", "@163.com", "zhang wei@163.com"},
		"passport": {"E1234567", "X12345678"},
		"name":     {"上海某某会计有限公司", "张", "Zhang Wei", "的人", "张伟1"},
		"address":  {"上海", "浦东新区", "hello world 123"},
	}
	funcs := map[string]func(string) bool{"cn_id": IsCNID, "mobile": IsMobile, "card": IsBankCard, "email": IsEmail,
		"passport": IsPassport, "name": IsPersonName, "address": IsAddress}
	for k, f := range funcs {
		for _, v := range yes[k] {
			if !f(v) {
				t.Errorf("%s(%q) = false", k, v)
			}
		}
		for _, v := range no[k] {
			if f(v) {
				t.Errorf("%s(%q) = true", k, v)
			}
		}
	}
	if shape, check := USCC("91350100M000100Y43"); !shape || !check {
		t.Error("a valid USCC")
	}
	if shape, check := USCC("91350100M000100Y44"); !shape || check {
		t.Error("a USCC with a wrong check character")
	}
	if shape, _ := USCC("91350100M000100I43"); shape {
		t.Error("I is not a USCC character")
	}
}

// gen makes synthetic values of each kind, deterministically.
type gen struct{ r *rand.Rand }

func (g gen) digits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return b.String()
}

func (g gen) id() string {
	for {
		s := fmt.Sprintf("31%04d%04d%02d%02d%03d", g.r.IntN(10000), 1950+g.r.IntN(60), 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(1000))
		if c, ok := masking.CNIDCheckChar(s); ok {
			return s + string(c)
		}
	}
}

func (g gen) mobile() string { return "1" + string("3456789"[g.r.IntN(7)]) + g.digits(9) }

func (g gen) card() string {
	p := "622202" + g.digits(9)
	d, _ := masking.LuhnCheckDigit(p)
	return p + string(d)
}

func (g gen) uscc() string {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for {
		var b strings.Builder
		b.WriteString("91")
		b.WriteString(g.digits(6))
		for i := 0; i < 9; i++ {
			b.WriteByte(chars[g.r.IntN(len(chars))])
		}
		if c, ok := masking.USCCCheckChar(b.String()); ok {
			return b.String() + string(c)
		}
	}
}

func (g gen) name() string {
	s := []rune(surnames)
	given := []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂")
	n := string(s[g.r.IntN(100)]) + string(given[g.r.IntN(len(given))])
	if g.r.IntN(2) == 0 {
		n += string(given[g.r.IntN(len(given))])
	}
	return n
}

func (g gen) address() string {
	districts := []string{"浦东新区", "徐汇区", "静安区", "黄浦区", "闵行区"}
	roads := []string{"世纪大道", "漕溪北路", "南京西路", "淮海中路", "虹梅路"}
	return fmt.Sprintf("上海市%s%s%d号", districts[g.r.IntN(5)], roads[g.r.IntN(5)], 1+g.r.IntN(999))
}

func (g gen) column(table, name, typ string, n int, f func() string) Column {
	c := Column{Table: table, Name: name, Type: typ}
	for i := 0; i < n; i++ {
		c.Values = append(c.Values, f())
	}
	return c
}

// TestClassifyPrecisionRecall: every protected column of a synthetic
// schema is found with its class, and no clean column is proposed.
func TestClassifyPrecisionRecall(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	const n = 500
	type labelled struct {
		col  Column
		want string // "" for clean
	}
	cols := []labelled{
		{g.column("contacts", "id_no", "character(18)", n, g.id), ClassCNID},
		{g.column("contacts", "zjhm", "text", n, g.id), ClassCNID},
		{g.column("contacts", "mobile", "character varying(20)", n, g.mobile), ClassMobile},
		{g.column("contacts", "lianxi", "text", n, func() string { return "+86 " + g.mobile() }), ClassMobile},
		{g.column("accounts", "card_no", "text", n, g.card), ClassBankCard},
		{g.column("companies", "uscc", "character(18)", n, g.uscc), ClassUSCC},
		{g.column("companies", "code", "text", n, g.uscc), ClassUSCC},
		{g.column("contacts", "name", "text", n, g.name), ClassPersonName},
		{g.column("contacts", "xingming", "text", n, g.name), ClassPersonName},
		{g.column("contacts", "email", "text", n, func() string { return "u" + g.digits(5) + "@163.com" }), ClassEmail},
		{g.column("contacts", "address", "text", n, g.address), ClassAddress},
		{g.column("contacts", "birthday", "date", n, func() string { return "1990-01-01" }), ClassBirthday},
		{g.column("payroll", "amount", "numeric(12,2)", n, func() string { return g.digits(5) + ".00" }), ClassSalary},
		{g.column("payroll", "bonus", "integer", n, func() string { return g.digits(4) }), ClassSalary},
		{Column{Table: "contacts", Name: "shenfenzheng", Type: "text"}, ClassCNID}, // empty, by name
		// Clean columns.
		{g.column("invoices", "invoice_no", "text", n, func() string { return g.digits(20) }), ""},
		{g.column("invoices", "amount", "numeric(12,2)", n, func() string { return g.digits(4) + ".50" }), ""},
		{g.column("invoices", "id", "integer", n, func() string { return g.digits(6) }), ""},
		{g.column("vouchers", "summary", "text", n, func() string { return "收到货款" + g.digits(3) }), ""},
		{g.column("companies", "name", "text", n, func() string { return "上海" + g.name() + "会计服务有限公司" }), ""},
		{g.column("vouchers", "posted_on", "date", n, func() string { return "2026-11-27" }), ""},
		{g.column("products", "sku", "text", n, func() string { return "SKU-" + g.digits(8) }), ""},
		{g.column("vouchers", "voucher_no", "character(18)", n, func() string { return "2026" + g.digits(14) }), ""},
		{g.column("banks", "bank", "text", n, func() string { return "中国工商银行" }), ""},
	}
	tp, fp, fn := 0, 0, 0
	for _, l := range cols {
		f, ok := Classify(l.col)
		switch {
		case l.want != "" && ok && f.Class == l.want:
			tp++
		case l.want != "":
			fn++
			t.Errorf("%s.%s: proposed %q (%v), want %s", l.col.Table, l.col.Name, f.Class, ok, l.want)
		case ok:
			fp++
			t.Errorf("%s.%s (clean): proposed %s — %s", l.col.Table, l.col.Name, f.Class, f.Evidence())
		}
	}
	t.Logf("precision %d/%d, recall %d/%d", tp, tp+fp, tp, tp+fn)
}
