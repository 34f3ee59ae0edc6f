package bookkeeping

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/masking"
)

// Sizes are the rows the generator makes per table (payroll gets one row
// per employee and month).
type Sizes struct {
	Companies, Contacts, Accounts, Employees, PayrollMonths, Invoices, Vouchers int
}

// DefaultSizes is the demo's data set: about 100,000 rows.
var DefaultSizes = Sizes{Companies: 1000, Contacts: 10000, Accounts: 1500, Employees: 10000, PayrollMonths: 3,
	Invoices: 20000, Vouchers: 30000}

// Load generates the example's synthetic data — deterministic, with valid
// check digits, realistic Chinese names and Shanghai addresses — and
// copies it into the bk schema (created from Schema, empty). progress, if
// not nil, is told of each table loaded.
func Load(ctx context.Context, conn *pgx.Conn, sizes Sizes, progress func(table string, rows int)) error {
	g := &generator{r: rand.New(rand.NewPCG(20261127, 31))}
	type table struct {
		name string
		cols []string
		rows func() [][]any
	}
	tables := []table{
		{"client_companies", []string{"id", "name", "uscc", "legal_rep", "address"}, func() [][]any {
			var rows [][]any
			for i := 1; i <= sizes.Companies; i++ {
				rows = append(rows, []any{i, g.companyName(), g.uscc(), g.name(), g.address()})
			}
			return rows
		}},
		{"contacts", []string{"id", "company_id", "name", "id_no", "mobile", "email", "address", "birthday"}, func() [][]any {
			var rows [][]any
			for i := 1; i <= sizes.Contacts; i++ {
				id, born := g.id()
				rows = append(rows, []any{i, 1 + g.r.IntN(sizes.Companies), g.name(), id, g.mobile(), g.email(), g.address(), born})
			}
			return rows
		}},
		{"bank_accounts", []string{"id", "company_id", "bank", "card_no", "opened_at"}, func() [][]any {
			var rows [][]any
			for i := 1; i <= sizes.Accounts; i++ {
				bank, card := g.card()
				rows = append(rows, []any{i, 1 + g.r.IntN(sizes.Companies), bank, card,
					time.Date(2010+g.r.IntN(16), time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), 9+g.r.IntN(8), g.r.IntN(60), 0, 0, time.UTC)})
			}
			return rows
		}},
		{"employees", []string{"id", "company_id", "name", "id_no", "mobile", "hired_on"}, func() [][]any {
			var rows [][]any
			g.staff = g.staff[:0]
			for i := 1; i <= sizes.Employees; i++ {
				id, _ := g.id()
				e := employee{company: 1 + g.r.IntN(sizes.Companies), name: g.name(), id: id}
				g.staff = append(g.staff, e)
				rows = append(rows, []any{i, e.company, e.name, e.id, g.mobile(),
					time.Date(2012+g.r.IntN(14), time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), 0, 0, 0, 0, time.UTC)})
			}
			return rows
		}},
		{"payroll", []string{"id", "company_id", "employee", "id_no", "month", "amount", "bonus"}, func() [][]any {
			var rows [][]any
			n := 0
			for m := 0; m < sizes.PayrollMonths; m++ {
				for _, e := range g.staff {
					n++
					rows = append(rows, []any{n, e.company, e.name, e.id, time.Date(2026, time.Month(9+m), 1, 0, 0, 0, 0, time.UTC),
						fmt.Sprintf("%d.%02d", 6000+g.r.IntN(40000), g.r.IntN(100)), g.r.IntN(8) * 500})
				}
			}
			return rows
		}},
		{"sales_invoices", []string{"id", "company_id", "invoice_no", "issued_on", "buyer", "amount", "tax"}, func() [][]any {
			var rows [][]any
			for i := 1; i <= sizes.Invoices; i++ {
				cents := 10000 + g.r.IntN(5000000)
				rows = append(rows, []any{i, 1 + g.r.IntN(sizes.Companies), "2631" + g.digits(16), g.day(), g.companyName(),
					fmt.Sprintf("%d.%02d", cents/100, cents%100), fmt.Sprintf("%d.%02d", cents*13/10000, cents*13/100%100)})
			}
			return rows
		}},
		{"ledger_vouchers", []string{"id", "company_id", "voucher_no", "posted_on", "account", "summary", "debit", "credit"}, func() [][]any {
			var rows [][]any
			for i := 1; i <= sizes.Vouchers; i++ {
				amount := fmt.Sprintf("%d.%02d", 100+g.r.IntN(200000), g.r.IntN(100))
				debit, credit := amount, "0.00"
				if i%2 == 0 {
					debit, credit = "0.00", amount
				}
				d := g.day()
				rows = append(rows, []any{i, 1 + g.r.IntN(sizes.Companies), fmt.Sprintf("记-%s-%04d", d.Format("2006-01"), 1+(i-1)/2),
					d, accounts[g.r.IntN(len(accounts))], summaries[g.r.IntN(len(summaries))], debit, credit})
			}
			return rows
		}},
	}
	for _, t := range tables {
		rows := t.rows()
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"bk", t.name}, t.cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("load bk.%s: %w", t.name, err)
		}
		if progress != nil {
			progress("bk."+t.name, len(rows))
		}
	}
	_, err := conn.Exec(ctx, "ANALYZE")
	return err
}

type employee struct {
	company  int
	name, id string
}

type generator struct {
	r     *rand.Rand
	staff []employee
}

func (g *generator) digits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return b.String()
}

// Shanghai's district codes (GB/T 2260) and names.
var districts = []struct{ code, name string }{
	{"310101", "黄浦区"}, {"310104", "徐汇区"}, {"310105", "长宁区"}, {"310106", "静安区"}, {"310107", "普陀区"},
	{"310109", "虹口区"}, {"310110", "杨浦区"}, {"310112", "闵行区"}, {"310113", "宝山区"}, {"310114", "嘉定区"},
	{"310115", "浦东新区"}, {"310116", "金山区"}, {"310117", "松江区"}, {"310118", "青浦区"}, {"310120", "奉贤区"},
}

var roads = []string{"南京西路", "淮海中路", "世纪大道", "漕溪北路", "虹梅路", "延安西路", "四川北路", "长寿路",
	"张杨路", "陆家嘴环路", "中山北路", "武宁路", "天山路", "古北路", "莘庄路", "沪闵路", "共和新路", "杨高南路"}

// id returns a resident ID born 1955–2004 in a Shanghai district, with
// its birth date.
func (g *generator) id() (string, time.Time) {
	born := time.Date(1955+g.r.IntN(50), time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), 0, 0, 0, 0, time.UTC)
	first := districts[g.r.IntN(len(districts))].code + born.Format("20060102") + fmt.Sprintf("%03d", g.r.IntN(1000))
	c, _ := masking.CNIDCheckChar(first)
	return first + string(c), born
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严")
var compound = []string{"欧阳", "司马", "诸葛", "上官", "东方"}
var given = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红文辉玉梅鑫晨浩宇轩子涵欣怡梓睿思嘉俊博雨萱佳琪一诺天佑晓东海燕春雪飞鹏凯宏斌婷倩颖琳然彤泽昊瑞航铭宁安乐新阳荣德永林慧淑珍凤云峰健亮成立家兴学松楠蕾薇莉琴蓉瑶晶")

func (g *generator) name() string {
	s := string(surnames[g.r.IntN(len(surnames))])
	if g.r.IntN(50) == 0 {
		s = compound[g.r.IntN(len(compound))]
	}
	s += string(given[g.r.IntN(len(given))])
	if g.r.IntN(3) > 0 {
		s += string(given[g.r.IntN(len(given))])
	}
	return s
}

func (g *generator) mobile() string {
	prefixes := []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
		"158", "159", "166", "177", "180", "181", "186", "187", "188", "189", "199"}
	return prefixes[g.r.IntN(len(prefixes))] + g.digits(8)
}

func (g *generator) email() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	var b strings.Builder
	for i := 0; i < 4+g.r.IntN(5); i++ {
		b.WriteByte(letters[g.r.IntN(len(letters))])
	}
	return b.String() + g.digits(2+g.r.IntN(3)) + "@" + []string{"163.com", "qq.com", "126.com", "sina.com", "outlook.com"}[g.r.IntN(5)]
}

func (g *generator) address() string {
	d := districts[g.r.IntN(len(districts))].name
	road := roads[g.r.IntN(len(roads))]
	if g.r.IntN(2) == 0 {
		return fmt.Sprintf("上海市%s%s%d弄%d号%d室", d, road, 1+g.r.IntN(999), 1+g.r.IntN(30), 101+g.r.IntN(1500))
	}
	return fmt.Sprintf("上海市%s%s%d号%d室", d, road, 1+g.r.IntN(2000), 101+g.r.IntN(3000))
}

var banks = []struct{ name, bin string }{
	{"中国工商银行上海分行", "622202"}, {"中国建设银行上海分行", "621700"}, {"中国农业银行上海分行", "622848"},
	{"中国银行上海分行", "621660"}, {"招商银行上海分行", "622588"}, {"交通银行上海分行", "622262"},
}

func (g *generator) card() (bank, number string) {
	b := banks[g.r.IntN(len(banks))]
	payload := b.bin + g.digits(12)
	d, _ := masking.LuhnCheckDigit(payload)
	return b.name, payload + string(d)
}

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

func (g *generator) uscc() string {
	for {
		var b strings.Builder
		b.WriteString("91")
		b.WriteString(districts[g.r.IntN(len(districts))].code)
		for i := 0; i < 9; i++ {
			b.WriteByte(usccChars[g.r.IntN(len(usccChars))])
		}
		if c, ok := masking.USCCCheckChar(b.String()); ok {
			return b.String() + string(c)
		}
	}
}

var firmWords = []string{"浦江", "申城", "东方", "明珠", "金桥", "外滩", "华东", "汇丰", "长江", "嘉禾", "宏达", "新天地", "锦江", "瑞丰"}
var industries = []string{"贸易", "科技", "餐饮管理", "建筑工程", "物流", "文化传媒", "电子商务", "咨询", "服装", "印刷"}

func (g *generator) companyName() string {
	return "上海" + firmWords[g.r.IntN(len(firmWords))] + industries[g.r.IntN(len(industries))] + "有限公司"
}

func (g *generator) day() time.Time {
	return time.Date(2026, time.Month(1+g.r.IntN(11)), 1+g.r.IntN(28), 0, 0, 0, 0, time.UTC)
}

var accounts = []string{"1001 库存现金", "1002 银行存款", "1122 应收账款", "2202 应付账款", "2211 应付职工薪酬",
	"2221 应交税费", "5001 主营业务收入", "5401 主营业务成本", "5602 管理费用", "5603 财务费用"}
var summaries = []string{"收到货款", "支付货款", "计提工资", "发放工资", "缴纳增值税", "报销差旅费", "支付房租", "银行手续费", "销售商品", "采购原材料"}
