package discover

import (
	"fmt"
	"strings"
	"unicode"
)

// Column is one sampled column: its table and name, its PostgreSQL type
// (format_type), and the non-null values sampled, as text. For json and
// array columns Elements is set and Values are the scalar leaves and the
// elements sampled from the documents and arrays.
type Column struct {
	Table    string
	Name     string
	Type     string
	Values   []string
	Elements bool
}

// Finding is discover's proposal for a column, with its evidence.
type Finding struct {
	Class   string
	Matched int  // sampled values the class's validator accepts (whole, or inside text)
	Sampled int  // sampled values, placeholders (无, -, N/A, ...) not counted
	ByName  bool // the column's (or table's) name suggests the class
	// ChecksFailed counts, for USCC, values of its shape whose check
	// character is wrong (some real codes are), not in Matched.
	ChecksFailed int
	InText       int  // of Matched, values holding the class inside longer text
	Personal     int  // values holding personal data of any class (when more than Matched)
	Elements     bool // values are json leaves or array elements
	shaped       int  // values of the class's form, whatever the check digit
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
	unit := "sampled values"
	if f.Elements {
		unit = "sampled json leaves or array elements"
	}
	if f.Sampled > 0 && f.Matched > 0 {
		s := fmt.Sprintf("%.0f%% of %d %s %s", 100*f.Rate(), f.Sampled, unit, what[f.Class])
		if f.InText > 0 {
			s += fmt.Sprintf(" (%d of them inside longer text)", f.InText)
		}
		parts = append(parts, s)
	}
	if f.Personal > f.Matched && f.Sampled > 0 {
		parts = append(parts, fmt.Sprintf("%.0f%% hold personal data of some class", 100*float64(f.Personal)/float64(f.Sampled)))
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
	ClassBirthday: "are dates",
}

// Thresholds: a class is proposed when this share of the samples match
// it, or the lower share when the name suggests it too. A class with a
// check digit is proposed on a few values whatever their share
// (checkedMin matches, checkedRate of the values of its form: random
// numbers pass a check digit one time in ten or fewer).
const (
	contentRate = 0.6
	hintedRate  = 0.2
	checkedMin  = 3
	checkedRate = 0.8
)

// Classify proposes a class for a column, or reports none.
//
// A column is proposed when one class's matches pass contentRate (or
// hintedRate with a telling name); when a checksum class has checkedMin
// matches and checkedRate of the values of its form pass the check (a
// memo column in which some rows hold resident IDs); or when values
// holding personal data of the classes with exact tests, together, pass
// contentRate (a contact column of mobiles and e-mail addresses: the
// class with most matches is proposed). Matches count whole values and
// numbers or codes inside free text alike; placeholders are not sampled.
func Classify(c Column) (Finding, bool) {
	hints := nameHints(c.Table, c.Name)
	vals := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		if !isPlaceholder(v) {
			vals = append(vals, v)
		}
	}
	fs := make([]Finding, len(contentDetectors))
	for i, d := range contentDetectors {
		fs[i] = Finding{Class: d.class, Sampled: len(vals), ByName: hints[d.class], Elements: c.Elements}
	}
	personal := 0
	for _, v := range vals {
		exact := false
		for i, d := range contentDetectors {
			f := &fs[i]
			switch {
			case d.match(v):
				f.Matched++
			case d.inText != nil && d.inText(v):
				f.Matched++
				f.InText++
			default:
				if d.class == ClassUSCC {
					if shape, _ := USCC(v); shape {
						f.ChecksFailed++
					}
				}
				if d.shape != nil && (d.shape(v) || inText(d.shape)(v)) {
					f.shaped++
				}
				continue
			}
			f.shaped++
			exact = exact || (d.class != ClassPersonName && d.class != ClassAddress)
		}
		if exact {
			personal++
		}
	}
	var best *Finding
	for i := range fs {
		f := &fs[i]
		if best == nil || f.Matched > best.Matched || (f.Matched == best.Matched && f.Matched > 0 && f.ByName && !best.ByName) {
			best = f
		}
	}
	if best.Matched > 0 {
		if r := best.Rate(); r >= contentRate || (best.ByName && r >= hintedRate) {
			return *best, true
		}
	}
	for i, d := range contentDetectors {
		if f := fs[i]; d.shape != nil && f.Matched >= checkedMin && float64(f.Matched) >= checkedRate*float64(f.shaped) {
			return f, true
		}
	}
	if best.Matched > 0 && best.Class != ClassPersonName && best.Class != ClassAddress && len(vals) > 0 &&
		float64(personal)/float64(len(vals)) >= contentRate {
		best.Personal = personal
		return *best, true
	}
	// Classes known by name (and type or, for text, content) alone.
	typ := strings.ToLower(c.Type)
	if hints[ClassBirthday] {
		f := Finding{Class: ClassBirthday, Sampled: len(vals), ByName: true, Elements: c.Elements}
		if strings.HasPrefix(typ, "date") || strings.HasPrefix(typ, "timestamp") || len(vals) == 0 {
			return f, true
		}
		for _, v := range vals {
			if IsBirthDate(v) {
				f.Matched++
			}
		}
		if f.Rate() >= contentRate {
			return f, true
		}
	}
	if hints[ClassSalary] && isNumericType(typ) {
		return Finding{Class: ClassSalary, Sampled: len(vals), ByName: true}, true
	}
	// An empty column whose name is unmistakable.
	if len(vals) == 0 {
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
// the column is named in Chinese) that suggest a class. An entry matches
// a whole name or one of its words (or two neighbouring words); Chinese
// entries, entries with an underscore and the pinyin stems below match
// anywhere in the name.
var nameWords = map[string][]string{
	ClassCNID: {"idcard", "id_card", "idno", "id_no", "id_number", "idnumber", "sfz", "sfzh", "sfzhm", "shenfenzheng",
		"shenfenzhenghao", "zjhm", "zjh", "identity", "national_id", "cert_no", "certno", "cert_number", "certificate_no",
		"certificate_number", "身份证", "身份证号", "证件号", "证件号码"},
	ClassMobile: {"mobile", "phone", "cellphone", "cell", "tel", "telephone", "shouji", "sjh", "sjhm", "dianhua",
		"lxdh", "lxfs", "手机", "手机号", "电话", "联系电话", "联系方式"},
	ClassBankCard: {"card_no", "cardno", "card_number", "bank_card", "bankcard", "bank_account", "account_no", "acct_no",
		"yhk", "yhkh", "yinhangka", "kahao", "zhanghao", "银行卡", "银行卡号", "卡号", "账号"},
	ClassUSCC:  {"uscc", "tyshxydm", "credit_code", "xinyongdaima", "xydm", "信用代码", "统一社会信用代码"},
	ClassEmail: {"email", "e_mail", "mail", "youxiang", "邮箱", "电子邮件"},
	ClassPersonName: {"name", "xingming", "xm", "realname", "real_name", "full_name", "fullname", "employee",
		"employee_name", "contact_name", "legal_rep", "faren", "fddbr", "姓名", "法定代表人", "联系人"},
	ClassAddress:  {"address", "addr", "dizhi", "zhuzhi", "residence", "地址", "住址"},
	ClassPassport: {"passport", "huzhao", "护照"},
	ClassBirthday: {"birthday", "birth_date", "birthdate", "birth_day", "dob", "date_of_birth", "shengri", "chusheng", "csrq",
		"出生日期", "出生", "生日"},
	ClassSalary: {"salary", "wage", "wages", "income", "gongzi", "xinzi", "xinchou", "yuexin", "nianxin", "bonus", "jiangjin",
		"工资", "薪资", "薪酬", "薪水", "月薪", "年薪", "奖金", "收入"},
}

// pinyinStems are pinyin words that match anywhere in a column name:
// pinyin names are usually run together (shoujihao, lianxidianhua,
// chushengriqi). They are long enough not to occur inside English words.
var pinyinStems = map[string][]string{
	ClassCNID:       {"shenfenzheng", "zhengjianhao"},
	ClassMobile:     {"shouji", "dianhua", "lianxifangshi"},
	ClassBankCard:   {"yinhangka", "kahao", "zhanghao"},
	ClassUSCC:       {"xinyongdaima"},
	ClassEmail:      {"youxiang"},
	ClassPersonName: {"xingming"},
	ClassAddress:    {"dizhi", "zhuzhi"},
	ClassPassport:   {"huzhao"},
	ClassBirthday:   {"chusheng", "shengri"},
	ClassSalary:     {"gongzi", "xinzi", "xinchou", "yuexin", "nianxin", "jiangjin"},
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
	for class, list := range pinyinStems {
		for _, w := range list {
			if strings.Contains(col, w) {
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
