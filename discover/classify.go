package discover

import (
	"fmt"
	"strings"
	"unicode"
)

// Column is one sampled column: its table and name, its PostgreSQL type
// (format_type), and the non-null values sampled, as text.
type Column struct {
	Table  string
	Name   string
	Type   string
	Values []string
}

// Finding is discover's proposal for a column, with its evidence.
type Finding struct {
	Class   string
	Matched int // sampled values the class's validator accepts
	Sampled int
	ByName  bool // the column's (or table's) name suggests the class
	// ChecksFailed counts, for USCC, values of its shape whose check
	// character is wrong (some real codes are), not in Matched.
	ChecksFailed int
}

// Rate is the share of sampled values that matched.
func (f Finding) Rate() float64 {
	if f.Sampled == 0 {
		return 0
	}
	return float64(f.Matched) / float64(f.Sampled)
}

// Evidence is the finding as a sentence, for a YAML comment.
func (f Finding) Evidence() string {
	var parts []string
	if f.Sampled > 0 && f.Matched > 0 {
		parts = append(parts, fmt.Sprintf("%.0f%% of %d sampled values %s", 100*f.Rate(), f.Sampled, what[f.Class]))
	}
	if f.ChecksFailed > 0 {
		parts = append(parts, fmt.Sprintf("%d more have its shape but a wrong check character", f.ChecksFailed))
	}
	if f.ByName {
		parts = append(parts, "the name suggests "+f.Class)
	}
	if f.Sampled == 0 {
		parts = append(parts, "no values to sample")
	}
	return strings.Join(parts, "; ")
}

var what = map[string]string{
	ClassCNID: "are resident ID numbers (valid date and check character)", ClassMobile: "are mobile numbers",
	ClassBankCard: "are card numbers (16-19 digits, valid Luhn digit)", ClassUSCC: "are unified social credit codes (valid check character)",
	ClassEmail: "are e-mail addresses", ClassPassport: "are passport or permit numbers",
	ClassPersonName: "look like Chinese personal names", ClassAddress: "look like Chinese addresses",
}

// Thresholds: a class is proposed when this share of the samples match
// it, or the lower share when the name suggests it too.
const (
	contentRate = 0.6
	hintedRate  = 0.2
)

// Classify proposes a class for a column, or reports none.
func Classify(c Column) (Finding, bool) {
	hints := nameHints(c.Table, c.Name)
	var best Finding
	for _, d := range contentDetectors {
		f := Finding{Class: d.class, Sampled: len(c.Values), ByName: hints[d.class]}
		for _, v := range c.Values {
			if d.match(v) {
				f.Matched++
			} else if d.class == ClassUSCC {
				if shape, _ := USCC(v); shape {
					f.ChecksFailed++
				}
			}
		}
		if f.Matched > best.Matched || (f.Matched == best.Matched && f.Matched > 0 && f.ByName && !best.ByName) {
			best = f
		}
	}
	if best.Matched > 0 {
		if r := best.Rate(); r >= contentRate || (best.ByName && r >= hintedRate) {
			return best, true
		}
	}
	// Classes known by name (and type) alone.
	switch typ := strings.ToLower(c.Type); {
	case hints[ClassBirthday] && (strings.HasPrefix(typ, "date") || strings.HasPrefix(typ, "timestamp")):
		return Finding{Class: ClassBirthday, Sampled: len(c.Values), ByName: true}, true
	case hints[ClassSalary] && isNumericType(typ):
		return Finding{Class: ClassSalary, Sampled: len(c.Values), ByName: true}, true
	}
	// An empty column whose name is unmistakable.
	if len(c.Values) == 0 {
		for _, d := range contentDetectors {
			if hints[d.class] && d.class != ClassPersonName && d.class != ClassAddress {
				return Finding{Class: d.class, ByName: true}, true
			}
		}
	}
	return Finding{}, false
}

func isNumericType(t string) bool {
	for _, p := range []string{"numeric", "decimal", "integer", "bigint", "smallint", "real", "double precision", "money"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// nameWords are column-name words (English and pinyin, and Chinese when
// the column is named in Chinese) that suggest a class.
var nameWords = map[string][]string{
	ClassCNID: {"idcard", "id_card", "idno", "id_no", "id_number", "idnumber", "sfz", "sfzh", "sfzhm", "shenfenzheng",
		"shenfenzhenghao", "zjhm", "identity", "身份证", "身份证号", "证件号码"},
	ClassMobile: {"mobile", "phone", "cellphone", "cell", "tel", "telephone", "shouji", "sjh", "sjhm", "dianhua",
		"lxdh", "手机", "手机号", "电话", "联系电话"},
	ClassBankCard: {"card_no", "cardno", "card_number", "bank_card", "bankcard", "bank_account", "account_no", "acct_no",
		"yhk", "yhkh", "yinhangka", "zhanghao", "银行卡", "银行卡号", "卡号", "账号"},
	ClassUSCC:  {"uscc", "tyshxydm", "credit_code", "xinyongdaima", "xydm", "信用代码", "统一社会信用代码"},
	ClassEmail: {"email", "e_mail", "mail", "youxiang", "邮箱", "电子邮件"},
	ClassPersonName: {"name", "xingming", "xm", "realname", "real_name", "full_name", "fullname", "employee",
		"employee_name", "contact_name", "legal_rep", "faren", "fddbr", "姓名", "法定代表人", "联系人"},
	ClassAddress:  {"address", "addr", "dizhi", "zhuzhi", "residence", "地址", "住址"},
	ClassPassport: {"passport", "huzhao", "护照"},
	ClassBirthday: {"birthday", "birth_date", "birthdate", "dob", "date_of_birth", "shengri", "chusheng", "csrq",
		"出生日期", "生日"},
	ClassSalary: {"salary", "wage", "wages", "gongzi", "xinzi", "bonus", "jiangjin", "工资", "薪资", "奖金"},
}

// salaryTables: numeric amounts in these tables are pay.
var salaryTables = []string{"payroll", "salary", "salaries", "wage", "gongzi", "xinzi", "工资"}

// nameHints returns the classes a column's name (and, for amounts, its
// table's) suggests.
func nameHints(table, column string) map[string]bool {
	col := strings.ToLower(column)
	words := splitName(col)
	hints := map[string]bool{}
	for class, list := range nameWords {
		for _, w := range list {
			if col == w || words[w] || (strings.ContainsFunc(w, isHan) && strings.Contains(col, w)) ||
				(strings.Contains(w, "_") && strings.Contains(col, w)) {
				hints[class] = true
			}
		}
	}
	tbl := strings.ToLower(table)
	if i := strings.LastIndexByte(tbl, '.'); i >= 0 {
		tbl = tbl[i+1:]
	}
	for _, t := range salaryTables {
		if strings.Contains(tbl, t) && (words["amount"] || words["pay"] || col == "amount") {
			hints[ClassSalary] = true
		}
	}
	return hints
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// splitName splits a (lower-case) column name into its words, and each
// pair of neighbours joined again (id_card from id, card).
func splitName(name string) map[string]bool {
	words := map[string]bool{}
	var parts []string
	for _, p := range strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' || r == ' ' }) {
		parts = append(parts, p)
	}
	for i, p := range parts {
		words[p] = true
		if i+1 < len(parts) {
			words[p+"_"+parts[i+1]] = true
		}
	}
	return words
}
