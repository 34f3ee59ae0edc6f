package discover

// Red-team review of the classifier behind `pgmantle discover` and
// `pgmantle policy check`. The findings are fixed; each test describes
// the defect it guards against (the "Cause" lines describe the code
// before the fix); holds verify behaviour that was correct already. The
// sampling side (a real PostgreSQL) is in
// cmd/pgmantle/redteam_discover_test.go.

import (
	"fmt"
	"strings"
	"testing"
)

// Valid values (check characters recomputed per FORMATS.md).
const (
	rtID       = "310105199003078032" // S = 252 -> 2
	rtIDx      = "11010519491231002X" // S = 167 -> X
	rtLegacyID = "310105900307803"    // 15 digits, 1990-03-07
	rtMobile   = "13812345678"
	rtCard     = "6222021234567894" // Luhn sum 60
)

func rtRepeat(n int, vs ...string) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, vs[i%len(vs)])
	}
	return out
}

// TestRedteamDiscoverHoldsNormalisedFormats: the layouts FORMATS.md says
// to normalise are recognised: lower-case x, 15-digit legacy IDs,
// full-width digits and X, +86/0086 prefixes, spaces and dashes in mobiles
// and cards; NULLs never reach Values, so a NULL-heavy column is judged by
// its non-null values.
func TestRedteamDiscoverHoldsNormalisedFormats(t *testing.T) {
	cases := []struct {
		class string
		v     string
	}{
		{ClassCNID, rtID},
		{ClassCNID, strings.ToLower(rtIDx)},
		{ClassCNID, rtLegacyID},
		{ClassCNID, "３１０１０５１９９００３０７８０３２"},
		{ClassCNID, "１１０１０５１９４９１２３１００２ｘ"},
		{ClassCNID, " " + rtID + " "},
		{ClassMobile, rtMobile},
		{ClassMobile, "+86 138 1234 5678"},
		{ClassMobile, "+86-138-1234-5678"},
		{ClassMobile, "0086 13812345678"},
		{ClassMobile, "＋８６１３８１２３４５６７８"},
		{ClassMobile, "138-1234-5678"},
		{ClassBankCard, "6222 0212 3456 7894"},
		{ClassBankCard, "6222-0212-3456-7894"},
		{ClassBankCard, rtCard},
	}
	for _, c := range cases {
		f, ok := Classify(Column{Table: "s.t", Name: "c", Type: "text", Values: rtRepeat(50, c.v)})
		if !ok || f.Class != c.class {
			t.Errorf("%q: got %v %+v, want %s", c.v, ok, f, c.class)
		}
	}
	// Five non-null IDs in a column that is otherwise NULL: 100 %.
	f, ok := Classify(Column{Table: "s.t", Name: "c", Type: "text", Values: rtRepeat(5, rtID)})
	if !ok || f.Class != ClassCNID || f.Rate() != 1 {
		t.Errorf("NULL-heavy column: %v %+v", ok, f)
	}
	// The evidence never carries a value.
	if ev := f.Evidence(); strings.Contains(ev, rtID) || strings.Contains(ev, "8032") {
		t.Errorf("evidence holds a value: %s", ev)
	}
}

// TestRedteamDiscoverFindsValuesEmbeddedInText: personal data inside
// free text (remarks, notes, imported "contact" strings) is never found:
// every detector matches the whole value only, so a `remark` column in
// which every row carries a valid resident ID and a mobile number is
// proposed as nothing and stays unprotected.
//
// Cause: discover/detect.go:60-121 (IsCNID, IsMobile, IsBankCard, ... test
// the whole normalised value) and discover/classify.go:73-91.
// Fix: add a substring scan (e.g. `(?:^|\D)([1-9]\d{16}[\dXx])(?:\D|$)`,
// `(?:^|\D)(1[3-9]\d{9})(?:\D|$)`, 16-19-digit Luhn runs) whose hits
// count towards the class, and propose the column (say, as free text
// holding <class>) when they pass the rate; a free-text class could default
// to redact/deny.
func TestRedteamDiscoverFindsValuesEmbeddedInText(t *testing.T) {
	vals := rtRepeat(100,
		"客户王伟，身份证"+rtID+"，电话"+rtMobile,
		"联系人：李娜 手机 "+rtMobile+" 身份证号 "+rtIDx,
		"退款至 "+rtCard+"（张敏）")
	if _, ok := Classify(Column{Table: "bk.vouchers", Name: "remark", Type: "text", Values: vals}); !ok {
		t.Errorf("a remark column in which every value holds a resident ID, a mobile or a card number is not proposed, so it stays unprotected")
	}
}

// TestRedteamDiscoverProposesPartialColumns: a column in which only some
// rows hold personal data is not proposed, even when those values pass a
// check-digit test no random text passes. 30 % of values that are
// resident IDs with a valid date and check character (or a contact column
// half mobiles, half e-mail addresses, or a mobile column where half the
// customers wrote 无) is personal data, and leaving it out of the policy
// leaves every one of those values in clear.
//
// Cause: discover/classify.go:65-66 (contentRate 0.6, hintedRate 0.2 for
// every class alike) and discover/classify.go:73-91 (only the single best
// class is weighed; matches of different classes are never added up;
// placeholders such as 无 / - / 未知 count as sampled values).
// Fix: for checksum classes (cn_id, bank_card, uscc) propose on a small
// absolute count (e.g. >= 3 matches or >= 5 %); add up the PII matches of
// all classes and propose the strongest class when the union passes; do
// not count common placeholders as sampled.
func TestRedteamDiscoverProposesPartialColumns(t *testing.T) {
	cases := []struct {
		what string
		col  Column
	}{
		{"30% valid resident IDs among remarks", Column{Table: "bk.ledger", Name: "memo", Type: "text",
			Values: append(rtRepeat(30, rtID, rtIDx), rtRepeat(70, "已结清", "待核对", "月末调整")...)}},
		{"a contact column, half mobiles and half e-mail addresses", Column{Table: "bk.customers", Name: "contact", Type: "text",
			Values: rtRepeat(100, rtMobile, "zhang.wei@163.com")}},
		{"a 联系方式 column (lxfs) with 45% mobiles, the rest placeholders", Column{Table: "bk.customers", Name: "lxfs", Type: "text",
			Values: append(rtRepeat(45, rtMobile, "13912345678"), rtRepeat(55, "无", "-", "未提供")...)}},
		{"10% valid card numbers in a payment note", Column{Table: "bk.payments", Name: "note", Type: "text",
			Values: append(rtRepeat(10, rtCard), rtRepeat(90, "现金", "转账")...)}},
	}
	for _, c := range cases {
		if _, ok := Classify(c.col); !ok {
			t.Errorf("%s (%s.%s): not proposed, so the column stays unprotected", c.what, c.col.Table, c.col.Name)
		}
	}
}

// TestRedteamDiscoverNormalisesLayouts: mobile numbers written
// as they often are in Chinese forms and exports are not recognised:
// "(+86)" in brackets, the ideographic space U+3000 that full-width input
// produces, and a bare "86" prefix (which the masking layer itself strips,
// masking/mask_hash.go:23, so the two halves of the product disagree).
//
// Cause: discover/detect.go:44-56 (digitsOnly drops only ' ' and '-') and
// discover/detect.go:107-112 (only "+86" and "0086" are stripped).
// Fix: normalise U+3000, '(', ')' and '.' as separators, strip "(+86)",
// "86" before an 11-digit 1[3-9] number, as the hash mask does.
func TestRedteamDiscoverNormalisesLayouts(t *testing.T) {
	for _, v := range []string{"(+86)13812345678", "(+86) 138 1234 5678", "１３８　１２３４　５６７８", "86 13812345678", "86-138-1234-5678"} {
		if !IsMobile(v) {
			t.Errorf("IsMobile(%q) = false: a mobile number in a common layout is not recognised", v)
		}
	}
	for _, v := range []string{"6222　0212　3456　7894"} {
		if !IsBankCard(v) {
			t.Errorf("IsBankCard(%q) = false: a card number with ideographic spaces is not recognised", v)
		}
	}
}

// TestRedteamDiscoverNameHintsCoverCommonNames: common pinyin and
// English column names are not hints, while their Chinese or shorter
// forms are (手机号 and shouji are, shoujihao is not; 出生日期 and csrq
// are, chushengriqi is not). A name hint is what gets an empty or sparsely
// filled column, a birthday or a salary proposed at all, so each of these
// columns is left out of the policy.
//
// Cause: discover/classify.go:122-139 (nameWords) and
// discover/classify.go:145-155 (a word must equal a list entry; pinyin
// run together, the usual style, is never split).
// Fix: add the pinyin of every Chinese entry (shoujihao, lianxidianhua,
// zhengjianhaoma, yinhangkahao, kahao, chushengriqi, xinchou, yuexin),
// English national_id, cert_no / certificate_no, income, and match pinyin
// entries as substrings of the column name (as Chinese entries are).
func TestRedteamDiscoverNameHintsCoverCommonNames(t *testing.T) {
	cases := []struct {
		name, typ, class string
	}{
		{"shoujihao", "character varying(20)", ClassMobile},
		{"lianxidianhua", "character varying(20)", ClassMobile},
		{"zhengjianhaoma", "character varying(18)", ClassCNID},
		{"cert_no", "character varying(18)", ClassCNID},
		{"national_id", "character varying(18)", ClassCNID},
		{"yinhangkahao", "character varying(19)", ClassBankCard},
		{"chushengriqi", "date", ClassBirthday},
		{"xinchou", "numeric(12,2)", ClassSalary},
		{"yuexin", "numeric(12,2)", ClassSalary},
		{"薪酬", "numeric(12,2)", ClassSalary},
		{"income", "numeric(12,2)", ClassSalary},
	}
	for _, c := range cases {
		f, ok := Classify(Column{Table: "hr.staff", Name: c.name, Type: c.typ})
		if !ok || f.Class != c.class {
			t.Errorf("column hr.staff.%s (%s, no values sampled): proposed %v %q, want %s by its name", c.name, c.typ, ok, f.Class, c.class)
		}
	}
}

// TestRedteamDiscoverBirthdayInTextColumns: a birthday stored as
// text (varchar '1990-03-07', char(8) '19900307') or as an integer
// 19900307 — common in legacy ledgers — is never proposed, even when the
// column is called birthday: the birthday class is only proposed for
// date and timestamp columns, and it has no content test.
//
// Cause: discover/classify.go:95-96 (hints[ClassBirthday] &&
// date/timestamp type) and discover/detect.go:211-223 (no birthday
// detector).
// Fix: propose birthday for a hinted column of any type whose values
// parse as dates (YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD, YYYY年M月D日) in a
// plausible range.
func TestRedteamDiscoverBirthdayInTextColumns(t *testing.T) {
	cases := []Column{
		{Table: "bk.contacts", Name: "birthday", Type: "character varying(10)", Values: rtRepeat(50, "1990-03-07", "1985-11-30")},
		{Table: "bk.contacts", Name: "birth_date", Type: "character(8)", Values: rtRepeat(50, "19900307", "19851130")},
		{Table: "bk.contacts", Name: "csrq", Type: "integer", Values: rtRepeat(50, "19900307", "19851130")},
		{Table: "bk.contacts", Name: "shengri", Type: "text", Values: rtRepeat(50, "1990年3月7日")},
	}
	for _, c := range cases {
		f, ok := Classify(c)
		if !ok || f.Class != ClassBirthday {
			t.Errorf("%s.%s (%s) of birth dates: proposed %v %q, want birthday", c.Table, c.Name, c.Type, ok, f.Class)
		}
	}
}

// TestRedteamDiscoverHoldsProposalFormat: the proposal carries column
// names, counts and rates only, quotes names YAML would misread, and
// counts what it examined.
func TestRedteamDiscoverHoldsProposalFormat(t *testing.T) {
	props := []Proposal{
		{Table: "bk.contacts", Column: "id_no", Finding: Finding{Class: ClassCNID, Matched: 9, Sampled: 10, ByName: true}},
		{Table: "bk.客户", Column: "手机", Finding: Finding{Class: ClassMobile, Matched: 10, Sampled: 10}},
		{Table: "bk.t", Column: "a#b", Finding: Finding{Class: ClassUSCC, Matched: 8, Sampled: 10, ChecksFailed: 2}},
	}
	var b strings.Builder
	if err := WriteClasses(&b, props, "header", 5); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`- bk.contacts.id_no  # 90% of 10 sampled values`, `- "bk.客户.手机"`, `- "bk.t.a#b"`, "2 more have its shape", "# 5 columns examined, 3 proposed"} {
		if !strings.Contains(out, want) {
			t.Errorf("proposal lacks %q:\n%s", want, out)
		}
	}
}

// TestRedteamDiscoverHoldsNoProposalForPlainNumbers: the rules that
// propose columns on a few values (check digits, text, placeholders) do
// not propose columns of plain numbers and words: 18- and 19-digit
// identifiers (one in ten passes Luhn), 15- and 18-digit order numbers,
// placeholders only, short Chinese words, and English names that hold a
// pinyin stem's letters.
func TestRedteamDiscoverHoldsNoProposalForPlainNumbers(t *testing.T) {
	x := uint64(88172645463325252)
	next := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	var snowflake, order18, order15, remarks []string
	for i := 0; i < 1000; i++ {
		snowflake = append(snowflake, fmt.Sprint(1_000_000_000_000_000_000+next()%8_000_000_000_000_000_000))
		order18 = append(order18, fmt.Sprint(100_000_000_000_000_000+next()%800_000_000_000_000_000))
		order15 = append(order15, fmt.Sprint(100_000_000_000_000+next()%800_000_000_000_000))
		remarks = append(remarks, fmt.Sprintf("订单%d已发货，单号%d", next()%1_000_000, next()%10_000_000_000))
	}
	for _, c := range []Column{
		{Table: "s.t", Name: "id", Type: "bigint", Values: snowflake},
		{Table: "s.t", Name: "order_no", Type: "text", Values: order18},
		{Table: "s.t", Name: "order_no", Type: "text", Values: order15},
		{Table: "s.t", Name: "remark", Type: "text", Values: remarks},
		{Table: "s.t", Name: "note", Type: "text", Values: rtRepeat(100, "无", "-", "N/A", "未知")},
		{Table: "s.t", Name: "status", Type: "text", Values: rtRepeat(100, "已结清", "待核对", "高级", "方案")},
		{Table: "s.t", Name: "hotel", Type: "text"},
		{Table: "s.t", Name: "excellent", Type: "text"},
	} {
		if f, ok := Classify(c); ok {
			t.Errorf("%s (%s, e.g. %q) proposed as %s: %s", c.Name, c.Type, append(c.Values, "")[0], f.Class, f.Evidence())
		}
	}
}

// TestRedteamDiscoverHoldsNameableAndDisplay: a policy names columns as
// schema.table.column split on '.', with '*' as a wildcard, so a name
// holding either cannot be proposed as it is; Display quotes names that
// would break a comment line.
func TestRedteamDiscoverHoldsNameableAndDisplay(t *testing.T) {
	if !Nameable("bk", "客户", "手机") || Nameable("bk", "a.b", "c") || Nameable("bk", "t", "c*") || Nameable("bk", "t", "\xff") {
		t.Error("Nameable")
	}
	for _, s := range []string{"a\nb", "a\rb", "a\u2028b", "a\u0085b", "a\"b"} {
		if d := Display(s); strings.ContainsAny(d, "\n\r\u2028\u0085") || d == s {
			t.Errorf("Display(%q) = %q", s, d)
		}
	}
	if Display("bk.客户") != "bk.客户" {
		t.Error("Display quotes a printable name")
	}
}
