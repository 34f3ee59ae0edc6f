package masking

import (
	"strings"
	"testing"
)

// textCase is one value through a mask over a text-type column. Text
// types have the same bytes in both formats, so each case runs in both.
type textCase struct {
	mask string
	opts Options
	col  Column
	in   string
	want string
}

func runTextCases(t *testing.T, cases []textCase) {
	t.Helper()
	for _, tc := range cases {
		m := mustNew(t, tc.mask, tc.opts, tc.col)
		for _, format := range []int16{FormatText, FormatBinary} {
			got := maskString(t, m, tc.in, format)
			if got != tc.want {
				t.Errorf("%s %+v %s(%q) format %d = %q, want %q", tc.mask, tc.opts, typeName(tc.col.TypeOID), tc.in, format, got, tc.want)
			}
			checkTextValue(t, tc.col, []byte(got))
		}
	}
}

func TestPartial(t *testing.T) {
	k34 := Options{KeepFirst: intp(3), KeepLast: intp(4)}
	runTextCases(t, []textCase{
		{"partial", k34, colText, "13812345678", "138****5678"},
		{"partial", Options{}, colText, "张三丰", "张*丰"},
		{"partial", Options{}, colText, "张三", "**"}, // nothing would be hidden
		{"partial", Options{}, colText, "张", "*"},
		{"partial", Options{}, colText, "", ""},
		{"partial", Options{}, colText, "John Smith", "J********h"},
		{"partial", Options{KeepFirst: intp(2), KeepLast: intp(0)}, colText, "上海市浦东新区", "上海*****"},
		{"partial", Options{KeepFirst: intp(0), KeepLast: intp(0)}, colText, "秘密", "**"},
		{"partial", Options{Fill: "＊"}, colText, "王小明", "王＊明"},
		{"partial", Options{Fill: "•"}, colText, "abcdef", "a••••f"},
		{"partial", Options{}, colText, "😀ab😀", "😀**😀"}, // runes, not bytes
		// bpchar: padding is not content, and is restored.
		{"partial", Options{}, bpchar(6), "张三丰   ", "张*丰   "},
		{"partial", Options{}, colBpchar, "abc  ", "a*c  "},
		{"partial", k34, varchar(11), "13812345678", "138****5678"},
		// name: at most 63 bytes; a 3-byte fill over ASCII is cut.
		{"partial", Options{Fill: "＊", KeepFirst: intp(1), KeepLast: intp(0)}, colName, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", "a" + repeat("＊", 20)},
	})
}

func TestEmail(t *testing.T) {
	runTextCases(t, []textCase{
		{"email", Options{}, colText, "zhangsan@163.com", "z***@163.com"},
		{"email", Options{}, colText, "z@163.com", "***@163.com"},
		{"email", Options{}, colText, " Li.Si@Example.COM ", "L***@Example.COM"},
		{"email", Options{KeepFirst: intp(2), KeepLast: intp(1)}, colText, "wangwu@qq.com", "wa***u@qq.com"},
		// Non-ASCII domains are not shown: text after an '@' could be
		// anything (a name, an ID); punycode domains are.
		{"email", Options{}, colText, "张伟@公司.中国", "********"},
		{"email", Options{}, colText, "张伟@xn--55qx5d.xn--fiqs8s", "张***@xn--55qx5d.xn--fiqs8s"},
		{"email", Options{}, colText, "a@310105199003078032.张伟.13812345678.x#y.com", strings.Repeat("*", 43)},
		{"email", Options{}, colText, "zhangsan＠163.com", "z***＠163.com"},
		{"email", Options{}, colText, "not an email", "************"},
		{"email", Options{}, colText, "@163.com", "********"},
		{"email", Options{}, colText, "zhangsan@", "*********"},
		{"email", Options{}, colText, "a@b@c.cn", "a***@c.cn"}, // the last @ splits
		// varchar(6): "z@q.cn" fits; three fills would not.
		{"email", Options{}, varchar(6), "z@q.cn", "*@q.cn"},
		{"email", Options{}, bpchar(14), "zhangsan@163.com", "z***@163.com  "},
	})
}

func TestCNName(t *testing.T) {
	runTextCases(t, []textCase{
		{"cn_name", Options{}, colText, "张三", "张*"},
		{"cn_name", Options{}, colText, "张三丰", "张**"},
		{"cn_name", Options{}, colText, "欧阳娜娜", "欧阳**"},
		{"cn_name", Options{}, colText, "欧阳修", "欧阳*"},
		{"cn_name", Options{}, colText, "欧阳", "欧*"}, // two characters: surname 欧
		{"cn_name", Options{}, colText, "司马相如", "司马**"},
		{"cn_name", Options{}, colText, "諸葛亮", "諸葛*"},
		{"cn_name", Options{}, colText, "买买提·艾力", "买**·**"},
		{"cn_name", Options{}, colText, "阿沛•阿旺晋美", "阿*•****"},
		{"cn_name", Options{}, colText, "王", "*"},
		{"cn_name", Options{}, colText, " 李四 ", "李*"},
		{"cn_name", Options{}, colText, "John Smith", "J*********"},
		{"cn_name", Options{KeepSurname: boolp(false)}, colText, "欧阳娜娜", "****"},
		{"cn_name", Options{KeepSurname: boolp(false)}, colText, "买买提·艾力", "******"},
		{"cn_name", Options{Fill: "○"}, colText, "张三丰", "张○○"},
		{"cn_name", Options{}, bpchar(4), "张三", "张*  "},
		{"cn_name", Options{}, colText, "", ""},
	})
}

func TestCNID(t *testing.T) {
	strict := Options{KeepFirst: intp(1), KeepLast: intp(1)}
	runTextCases(t, []textCase{
		{"cn_id", Options{}, colText, "310105199003078032", "310105********8032"},
		{"cn_id", Options{}, colText, "11010519491231002X", "110105********002X"},
		{"cn_id", Options{}, colText, "11010519491231002x", "110105********002X"},     // lower-case x normalised
		{"cn_id", Options{}, colText, "３１０１０５１９９００３０７８０３２", "310105********8032"},     // full-width
		{"cn_id", Options{}, colText, "１１０１０５１９４９１２３１００２ｘ", "110105********002X"},     // full-width x
		{"cn_id", Options{}, colText, " 310105 19900307 8032 ", "310105********8032"}, // spaces inside
		{"cn_id", Options{}, colText, "310105-19900307-8032", "310105********8032"},   // dashes
		{"cn_id", strict, colText, "310105199003078032", "3****************2"},        // strict
		{"cn_id", Options{KeepFirst: intp(0), KeepLast: intp(0)}, colText, "310105199003078032", "******************"},
		{"cn_id", Options{}, colText, "310105900307803", "310105******803"},             // legacy 15: first 6 + last 3
		{"cn_id", strict, colText, "310105900307803", "3*************3"},                // legacy, strict
		{"cn_id", Options{}, colText, "31010519900307803", "*****************"},         // 17 digits: no shape
		{"cn_id", Options{}, colText, "A10105199003078032", "******************"},       // letter
		{"cn_id", Options{}, colText, "010105199003078032", "******************"},       // leading 0
		{"cn_id", Options{}, colText, "身份证310105199003078032", "*********************"}, // surrounded
		{"cn_id", Options{}, colText, "", ""},
		{"cn_id", Options{}, bpchar(18), "310105199003078032", "310105********8032"},
		{"cn_id", Options{}, bpchar(20), "310105199003078032  ", "310105********8032  "},
		{"cn_id", Options{Fill: "#"}, varchar(18), "310105199003078032", "310105########8032"},
		{"cn_id", Options{Fill: "＊"}, varchar(18), "310105199003078032", "310105＊＊＊＊＊＊＊＊8032"},
	})
	// The check character is kept, so the shown part still carries a
	// valid check for the original.
	m := mustNew(t, "cn_id", Options{}, colText)
	for _, id := range []string{"11010519491231002X", "310105199003078032"} {
		out := maskString(t, m, id, FormatText)
		if !ValidCNID(id) || out[17] != id[17] {
			t.Errorf("%s → %s: check character not kept", id, out)
		}
	}
}

func TestCNMobile(t *testing.T) {
	runTextCases(t, []textCase{
		{"cn_mobile", Options{}, colText, "13812345678", "138****5678"},
		{"cn_mobile", Options{}, colText, "+86 138 1234 5678", "138****5678"},
		{"cn_mobile", Options{}, colText, "+86-138-1234-5678", "138****5678"},
		{"cn_mobile", Options{}, colText, "0086 13812345678", "138****5678"},
		{"cn_mobile", Options{}, colText, "8613812345678", "138****5678"},
		{"cn_mobile", Options{}, colText, "(+86)13812345678", "138****5678"},
		{"cn_mobile", Options{}, colText, "１３８１２３４５６７８", "138****5678"},
		{"cn_mobile", Options{}, colText, "138-1234-5678", "138****5678"},
		{"cn_mobile", Options{KeepFirst: intp(3), KeepLast: intp(2)}, colText, "13812345678", "138******78"},
		{"cn_mobile", Options{}, colText, "12812345678", "***********"}, // 2nd digit 2
		{"cn_mobile", Options{}, colText, "021-12345678", "************"},
		{"cn_mobile", Options{}, colText, "1381234567", "**********"},
		{"cn_mobile", Options{}, varchar(11), "13812345678", "138****5678"},
		{"cn_mobile", Options{}, bpchar(13), "13812345678  ", "138****5678  "},
	})
}

func TestBankCard(t *testing.T) {
	runTextCases(t, []textCase{
		{"bank_card", Options{}, colText, "6222021234567894", "622202******7894"},
		{"bank_card", Options{}, colText, "6222 0212 3456 7894", "622202******7894"},
		{"bank_card", Options{}, colText, "6222-0212-3456-7894-123", "622202*********4123"},
		{"bank_card", Options{}, colText, "6222021234567890", "622202******7890"}, // bad Luhn: masked all the same
		{"bank_card", Options{KeepFirst: intp(0), KeepLast: intp(4)}, colText, "6222021234567894", "************7894"},
		{"bank_card", Options{}, colText, "622202123456789", "***************"},           // 15 digits
		{"bank_card", Options{}, colText, "62220212345678941234", "********************"}, // 20 digits
		{"bank_card", Options{}, colText, "６２２２０２１２３４５６７８９４", "622202******7894"},
	})
}

func TestUSCCMask(t *testing.T) {
	runTextCases(t, []textCase{
		{"uscc", Options{}, colText, "91350100M000100Y43", "91350100*********3"},
		{"uscc", Options{}, colText, "91350100m000100y43", "91350100*********3"},
		{"uscc", Options{KeepFirst: intp(2), KeepLast: intp(0)}, colText, "91350100M000100Y43", "91****************"},
		{"uscc", Options{}, colText, "91350100I000100Y43", "******************"}, // I is not in the alphabet
		{"uscc", Options{}, colText, "9135010", "*******"},
	})
}

func TestAddress(t *testing.T) {
	city := Options{Level: "city"}
	prov := Options{Level: "province"}
	runTextCases(t, []textCase{
		{"address", Options{}, colText, "上海市浦东新区世纪大道100号", "上海市浦东新区****"},
		{"address", Options{}, colText, "北京市朝阳区建国路88号", "北京市朝阳区****"},
		{"address", Options{}, colText, "北京朝阳区建国路88号", "北京朝阳区****"},
		{"address", Options{}, colText, "重庆市城口县葛城街道", "重庆市城口县****"},
		{"address", Options{}, colText, "天津市天津市和平区南京路", "天津市天津市和平区****"},
		{"address", Options{}, colText, "广东省广州市天河区体育西路191号", "广东省广州市天河区****"},
		{"address", Options{}, colText, "广东广州市天河区体育西路", "广东广州市天河区****"},
		{"address", Options{}, colText, "浙江省杭州市余杭区文一西路969号", "浙江省杭州市余杭区****"},
		{"address", Options{}, colText, "江苏省昆山市花桥镇商务区", "江苏省昆山市****"},
		{"address", Options{}, colText, "江苏省苏州市昆山市玉山镇", "江苏省苏州市昆山市****"},
		{"address", Options{}, colText, "山东省济南市市中区经四路", "山东省济南市市中区****"},
		{"address", Options{}, colText, "内蒙古自治区锡林郭勒盟苏尼特右旗赛汉塔拉镇", "内蒙古自治区锡林郭勒盟苏尼特右旗****"},
		{"address", Options{}, colText, "内蒙古呼伦贝尔市莫力达瓦达斡尔族自治旗尼尔基镇", "内蒙古呼伦贝尔市莫力达瓦达斡尔族自治旗****"},
		{"address", Options{}, colText, "新疆维吾尔自治区伊犁哈萨克自治州伊宁市解放路", "新疆维吾尔自治区伊犁哈萨克自治州伊宁市****"},
		{"address", Options{}, colText, "广西壮族自治区南宁市青秀区民族大道", "广西壮族自治区南宁市青秀区****"},
		{"address", Options{}, colText, "云南省德宏傣族景颇族自治州芒市勐焕路", "云南省德宏傣族景颇族自治州芒市****"},
		{"address", Options{}, colText, "黑龙江省大兴安岭地区漠河市北极村", "黑龙江省大兴安岭地区漠河市****"},
		{"address", Options{}, colText, "湖北省神农架林区松柏镇", "湖北省神农架林区****"},
		{"address", Options{}, colText, "吉林市丰满区吉林大街", "吉林市丰满区****"},
		{"address", Options{}, colText, "青海省海南藏族自治州共和县", "青海省海南藏族自治州共和县"},
		{"address", Options{}, colText, "河南省新乡市红旗区", "河南省新乡市红旗区"},
		{"address", Options{}, colText, "香港特别行政区中西区皇后大道中99号", "香港特别行政区中西区****"},
		{"address", Options{}, colText, "上海市 浦东新区 世纪大道100号", "****"}, // spaces inside the divisions: fail closed,
		{"address", Options{}, colText, "浙江省杭州市阳光小区5幢", "浙江省杭州市****"},
		{"address", Options{}, colText, "浙江省杭州市文一西路969号", "浙江省杭州市****"},
		{"address", Options{}, colText, "世纪大道100号", "****"},
		{"address", Options{}, colText, "1600 Amphitheatre Parkway", "****"},
		{"address", Options{}, colText, "", ""},
		{"address", city, colText, "广东省广州市天河区体育西路", "广东省广州市****"},
		{"address", city, colText, "上海市浦东新区世纪大道100号", "上海市****"},
		{"address", prov, colText, "广东省广州市天河区体育西路", "广东省****"},
		{"address", prov, colText, "广州市天河区体育西路", "****"},
		{"address", Options{Fill: "※"}, colText, "上海市浦东新区世纪大道100号", "上海市浦东新区※※※※"},
		// A short column gets fewer fills.
		{"address", Options{}, varchar(9), "上海市浦东新区世纪", "上海市浦东新区**"},
		{"address", Options{}, bpchar(12), "上海市浦东新区世纪大道1号", "上海市浦东新区**** "},
		{"address", Options{}, colText, "湖北省荆州市沙市区北京中路", "湖北省荆州市沙市区****"},
		{"address", Options{}, colText, "新疆乌鲁木齐市新市区北京南路", "新疆乌鲁木齐市新市区****"},
	})
}

func TestRedactText(t *testing.T) {
	runTextCases(t, []textCase{
		{"redact", Options{}, colText, "张三", "***"},
		{"redact", Options{Value: "[已隐藏]"}, colText, "张三", "[已隐藏]"},
		{"redact", Options{}, varchar(2), "张三", "**"},
		{"redact", Options{}, bpchar(5), "张三   ", "***  "},
		{"redact", Options{Value: "REDACTED"}, bpchar(4), "abcd", "REDA"},
		{"redact", Options{}, colBpchar, "abcd", "***"},
		{"redact", Options{}, colName, "pg_user", "***"},
	})
}

func TestBandText(t *testing.T) {
	w := Options{Width: 10000}
	runTextCases(t, []textCase{
		{"band", w, colText, "12345", "10000-20000"},
		{"band", w, colText, "12,345.67", "10000-20000"},
		{"band", w, colText, "￥12,345.00", "10000-20000"},
		{"band", w, colText, "１２３４５元", "10000-20000"},
		{"band", w, colText, "0", "0-10000"},
		{"band", w, colText, "20000", "20000-30000"},
		{"band", w, colText, "-1", "-10000-0"},
		{"band", w, colText, "-12345", "-20000--10000"},
		{"band", Options{Width: 0.5}, colText, "3.14", "3.0-3.5"},
		{"band", w, colText, "面议", "***"},
		{"band", w, colText, "NaN", "***"},
		{"band", w, varchar(8), "12345", "10000"},
		{"band", w, varchar(2), "12345", "**"},
		{"band", w, bpchar(12), "12345", "10000-20000 "},
	})
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}
