package discover

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pgmantle/pgmantle/masking"
)

// Classes discover can propose, named as in the example policy.
const (
	ClassCNID       = "cn_id"
	ClassMobile     = "cn_mobile"
	ClassBankCard   = "bank_card"
	ClassUSCC       = "uscc"
	ClassEmail      = "email"
	ClassPersonName = "person_name"
	ClassAddress    = "address"
	ClassPassport   = "passport"
	ClassBirthday   = "birthday"
	ClassSalary     = "salary"
)

// normalize applies FORMATS.md's first step: trim, full-width digits and
// letters to half-width, the ideographic space (U+3000) to a space.
func normalize(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsFunc(s, func(r rune) bool { return isFullWidth(r) || r == '\u3000' }) {
		return s
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case isFullWidth(r):
			return r - 0xFEE0
		case r == '\u3000':
			return ' '
		}
		return r
	}, s))
}

func isFullWidth(r rune) bool { return r >= 0xFF01 && r <= 0xFF5E }

// digitsOnly drops spaces and dashes inside a number.
func digitsOnly(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return "", false
		}
	}
	return b.String(), true
}

// IsCNID: an 18-character resident ID with a real birth date and a valid
// check character, or a legacy 15-digit one with a real date.
func IsCNID(v string) bool {
	v = strings.ToUpper(normalize(v))
	switch len(v) {
	case 18:
		return validIDDate(v[6:14]) && masking.ValidCNID(v)
	case 15:
		if _, ok := digitsOnly(v); !ok || v[0] == '0' {
			return false
		}
		return validIDDate("19" + v[6:12])
	}
	return false
}

// validIDDate checks YYYYMMDD (years 1800–2099, real days).
func validIDDate(d string) bool {
	if len(d) != 8 {
		return false
	}
	for i := 0; i < 8; i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	y := atoi(d[:4])
	m := atoi(d[4:6])
	day := atoi(d[6:])
	if y < 1800 || y > 2099 || m < 1 || m > 12 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 29
	}
	return day <= days
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// IsMobile: a mainland mobile number, with or without a country code
// (+86, (+86), 0086, 86, as the hash mask strips it), spaces or dashes.
func IsMobile(v string) bool {
	v = normalize(v)
	for _, p := range []string{"(+86)", "（+86）", "(86)", "+86", "0086"} {
		if strings.HasPrefix(v, p) {
			v = v[len(p):]
			break
		}
	}
	d, ok := digitsOnly(v)
	if ok && len(d) == 13 && strings.HasPrefix(d, "86") {
		d = d[2:]
	}
	return ok && len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

// IsBankCard: 16–19 digits passing Luhn (spaces and dashes allowed).
func IsBankCard(v string) bool {
	d, ok := digitsOnly(normalize(v))
	return ok && len(d) >= 16 && len(d) <= 19 && d[0] != '0' && masking.ValidLuhn(d)
}

// cnIDShape: 17 digits and a digit or X, or 15 digits, whatever the
// date and check character.
func cnIDShape(v string) bool {
	v = strings.ToUpper(normalize(v))
	switch len(v) {
	case 18:
		return allDigits(v[:17]) && (v[17] == 'X' || allDigits(v[17:]))
	case 15:
		return allDigits(v)
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// bankCardShape: 16–19 digits, checked or not.
func bankCardShape(v string) bool {
	d, ok := digitsOnly(normalize(v))
	return ok && len(d) >= 16 && len(d) <= 19
}

var usccShape = regexp.MustCompile(`^[0-9A-HJ-NPQRTUW-Y]{2}\d{6}[0-9A-HJ-NPQRTUW-Y]{10}$`)

// USCC reports whether v has the shape of a unified social credit code
// and, separately, whether its check character is right (some real codes
// fail it).
func USCC(v string) (shape, check bool) {
	v = strings.ToUpper(normalize(v))
	if !usccShape.MatchString(v) {
		return false, false
	}
	return true, masking.ValidUSCC(v)
}

var emailShape = regexp.MustCompile(`^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$`)

// IsEmail: an e-mail address.
func IsEmail(v string) bool { return emailShape.MatchString(normalize(v)) }

var passportShape = regexp.MustCompile(`^(E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}|[HM]\d{8}|[HM]\d{10})$`)

// IsPassport: a Chinese passport or Home Return Permit number.
func IsPassport(v string) bool { return passportShape.MatchString(strings.ToUpper(normalize(v))) }

// IsPersonName: 2–4 CJK characters starting with a common or compound
// surname, or a minority name with "·".
func IsPersonName(v string) bool {
	v = normalize(v)
	n := utf8.RuneCountInString(v)
	if strings.ContainsAny(v, "·•・") {
		return n >= 3 && n <= 20 && allHan(strings.NewReplacer("·", "", "•", "", "・", "").Replace(v))
	}
	if n < 2 || n > 4 || !allHan(v) {
		return false
	}
	for _, cs := range compoundSurnames {
		if strings.HasPrefix(v, cs) {
			return n >= 3
		}
	}
	first, _ := utf8.DecodeRuneInString(v)
	return strings.ContainsRune(surnames, first)
}

func allHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return s != ""
}

// surnames are the common single-character surnames (the first ~100
// cover about 85 % of the population).
const surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"

var compoundSurnames = []string{"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "令狐", "宇文", "夏侯", "司徒", "轩辕", "端木", "独孤", "南宫", "西门", "百里"}

// address markers: administrative levels and street words.
var addressWords = []string{"省", "市", "区", "县", "镇", "乡", "村", "路", "街", "道", "巷", "弄", "号", "室", "栋", "幢", "楼", "小区", "大厦"}

// IsAddress: Chinese text of some length naming at least two
// administrative or street levels.
func IsAddress(v string) bool {
	v = normalize(v)
	if utf8.RuneCountInString(v) < 6 {
		return false
	}
	han := 0
	for _, r := range v {
		if unicode.Is(unicode.Han, r) {
			han++
		}
	}
	if han < 4 {
		return false
	}
	hits := 0
	for _, w := range addressWords {
		if strings.Contains(v, w) {
			hits++
		}
	}
	return hits >= 2
}

var birthDateShape = regexp.MustCompile(`^(\d{4})(?:([-/.])(\d{1,2})([-/.])(\d{1,2})|年(\d{1,2})月(\d{1,2})日)(?:[ T].*)?$`)

// IsBirthDate: a date written as text or as a number — YYYY-MM-DD,
// YYYY/MM/DD, YYYY.MM.DD (a time may follow), YYYYMMDD, YYYY年M月D日 —
// between 1800 and 2099. Only columns whose name suggests a birthday are
// judged by it: dates alone are not personal data.
func IsBirthDate(v string) bool {
	v = normalize(v)
	if len(v) == 8 {
		return validIDDate(v)
	}
	m := birthDateShape.FindStringSubmatch(v)
	switch {
	case m == nil || m[2] != m[4]:
		return false
	case m[2] != "":
		return validIDDate(m[1] + pad2(m[3]) + pad2(m[5]))
	}
	return validIDDate(m[1] + pad2(m[6]) + pad2(m[7]))
}

func pad2(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}

// placeholders stand for "no value" in forms and imports; they are not
// counted as sampled values.
var placeholders = map[string]bool{"无": true, "空": true, "暂无": true, "未知": true, "不详": true, "未提供": true, "未填": true,
	"未填写": true, "待补充": true, "null": true, "none": true, "nil": true, "n/a": true, "na": true, "unknown": true}

func isPlaceholder(v string) bool {
	v = strings.ToLower(normalize(v))
	return placeholders[v] || strings.Trim(v, "-_/.*?？ ") == ""
}

var emailInText = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

var (
	alnumInText  = regexp.MustCompile(`[0-9A-Za-z]+`)
	digitsInText = regexp.MustCompile(`[0-9]+[Xx]?`)
	chainInText  = regexp.MustCompile(`\+?[0-9A-Za-z]+(?:[ \-][0-9A-Za-z]+)+`)
)

// tokens returns the candidates for a number or code inside free text:
// each run of ASCII letters and digits, each run of digits (with a
// trailing X, as resident IDs end), and runs joined by single spaces or
// dashes (138 1234 5678, +86-138-...).
func tokens(v string) []string {
	v = normalize(v)
	out := alnumInText.FindAllString(v, -1)
	out = append(out, digitsInText.FindAllString(v, -1)...)
	return append(out, chainInText.FindAllString(v, -1)...)
}

// inText reports whether a token of v (see tokens) passes match.
func inText(match func(string) bool) func(string) bool {
	return func(v string) bool {
		for _, t := range tokens(v) {
			if match(t) {
				return true
			}
		}
		return false
	}
}

// contentDetectors judge one sampled value for each class they can
// recognize by content: match tests the whole value, inText (when set)
// the numbers and codes inside free text, and shape (for the classes
// with a check digit) whether the value has the class's form whatever
// its check digit. USCC counts values whose check character is right
// (values of its shape that fail the check are reported separately:
// 18-digit document numbers have the shape too); birthday and salary
// have no content test of their own.
var contentDetectors = []struct {
	class  string
	match  func(string) bool
	inText func(string) bool
	shape  func(string) bool
}{
	{ClassCNID, IsCNID, inText(IsCNID), cnIDShape},
	{ClassMobile, IsMobile, inText(IsMobile), nil},
	{ClassBankCard, IsBankCard, inText(IsBankCard), bankCardShape},
	{ClassUSCC, isCheckedUSCC, inText(isCheckedUSCC), func(v string) bool { shape, _ := USCC(v); return shape }},
	{ClassEmail, IsEmail, func(v string) bool { return emailInText.MatchString(normalize(v)) }, nil},
	{ClassPassport, IsPassport, nil, nil},
	{ClassPersonName, IsPersonName, nil, nil},
	{ClassAddress, IsAddress, nil, nil},
}

func isCheckedUSCC(v string) bool { _, check := USCC(v); return check }
