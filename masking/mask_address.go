package masking

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// address: keep the administrative divisions of a Chinese address up to
// level and replace the rest by four fills, whatever its length:
//
//	district (default)  上海市浦东新区世纪大道100号 → 上海市浦东新区****
//	city                广东省广州市天河区体育西路 → 广东省广州市****
//	province            广东省广州市天河区体育西路 → 广东省****
//
// Province level: the 23 provinces, 5 autonomous regions (自治区), 4
// municipalities (直辖市, which are their own city level) and 2 SARs, in
// full or short form (广西, 内蒙古). City level: a name ending in 市,
// 自治州, 地区 or 盟. District level: a name ending in 区, 县, 市 (county-
// level city), 旗, 自治县 or 自治旗. A level that is absent is skipped
// (江苏省昆山市花桥镇 keeps 江苏省昆山市). Division names are Han
// characters of bounded length; a candidate that contains a digit or
// another script, looks like a street, town or compound (…路, …镇, …小区,
// …园区) or is too long is not taken, so an unusual address shows less,
// never more. An address with nothing recognised is masked whole (****).
// In a column too short for four fills fewer are written.

const (
	levelProvince = 1 + iota
	levelCity
	levelDistrict
)

type addressMask struct {
	textMask
	level int
	fill  fill
}

func newAddress(opts Options, col Column) (Masker, error) {
	level := levelDistrict
	switch opts.Level {
	case "", "district":
	case "city":
		level = levelCity
	case "province":
		level = levelProvince
	default:
		return nil, &OptionError{Mask: "address", Option: "level", TypeOID: col.TypeOID, Reason: `must be "province", "city" or "district"`}
	}
	f, err := fillOption("address", opts.Fill, col)
	if err != nil {
		return nil, err
	}
	return &addressMask{textMask: textMask{name: "address", oid: col.TypeOID, tc: newTextCol(col)}, level: level, fill: f}, nil
}

func (m *addressMask) Mask(dst, v []byte, format int16) ([]byte, bool, error) {
	return m.run(dst, v, format, m.apply)
}

func (m *addressMask) apply(out, c []byte) []byte {
	c = trimSpace(c)
	kept := addressPrefix(c, m.level)
	if bytes.ContainsAny(c[:kept], " \t\u3000") {
		// Divisions are written without spaces; a space inside the prefix
		// means the suffix rules matched free text (a name before 区/县/市).
		kept = 0
	}
	if kept == len(c) {
		return append(out, c...)
	}
	fills := 4
	chars := runeCount(c[:kept])
	for fills > 1 && !m.tc.fits(chars+fills, kept+fills*m.fill.n) {
		fills--
	}
	out = append(out, c[:kept]...)
	return m.fill.append(out, fills)
}

// addressPrefix returns how many bytes of c are divisions up to level.
func addressPrefix(c []byte, level int) int {
	kept := 0
	end, municipal := matchProvince(c)
	if end > 0 {
		kept = end
		if municipal {
			// 北京市北京市… or 北京市市辖区… (old-style forms).
			if n := repeatMunicipality(c[:end], c[end:]); n > 0 {
				kept += n
			}
		}
	}
	if level == levelProvince {
		return kept
	}
	if !municipal {
		if n := matchDivision(c[kept:], citySuffixes, false); n > 0 {
			kept += n
		}
	}
	if level == levelCity {
		return kept
	}
	if n := matchDivision(c[kept:], districtSuffixes, true); n > 0 {
		kept += n
	}
	return kept
}

// province is one province-level division.
type province struct {
	short, full string
	municipal   bool
}

var provinces = func() []province {
	var ps []province
	for _, s := range []string{"北京", "上海", "天津", "重庆"} {
		ps = append(ps, province{s, s + "市", true})
	}
	for _, s := range []string{"河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
		"山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾"} {
		ps = append(ps, province{s, s + "省", false})
	}
	for _, p := range [][2]string{{"内蒙古", "内蒙古自治区"}, {"广西", "广西壮族自治区"}, {"西藏", "西藏自治区"},
		{"宁夏", "宁夏回族自治区"}, {"新疆", "新疆维吾尔自治区"}, {"香港", "香港特别行政区"}, {"澳门", "澳门特别行政区"}} {
		ps = append(ps, province{p[0], p[1], false})
	}
	return ps
}()

// matchProvince matches a province-level division at the start of c: its
// full name, the short name with 省/市/自治区, or the bare short name when
// no lower division suffix follows it (吉林市 is a city, not 吉林省).
func matchProvince(c []byte) (end int, municipal bool) {
	for _, p := range provinces {
		if !hasPrefix(c, p.short) {
			continue
		}
		if hasPrefix(c, p.full) {
			return len(p.full), p.municipal
		}
		rest := c[len(p.short):]
		for _, suffix := range []string{"省", "市", "自治区"} {
			if hasPrefix(rest, suffix) && (suffix != "市" || p.municipal) {
				return len(p.short) + len(suffix), p.municipal
			}
		}
		// 海南藏族自治州 and 河南蒙古族自治县 are in Qinghai.
		if r, _ := utf8.DecodeRune(rest); !strings.ContainsRune("市州县区盟旗", r) && !hasPrefix(rest, "藏族") && !hasPrefix(rest, "蒙古族") {
			return len(p.short), p.municipal
		}
	}
	return 0, false
}

func hasPrefix(c []byte, s string) bool { return len(c) >= len(s) && string(c[:len(s)]) == s }

func hasSuffix(c []byte, s string) bool { return len(c) >= len(s) && string(c[len(c)-len(s):]) == s }

// repeatMunicipality matches a repeated municipality name or 市辖区 right
// after it.
func repeatMunicipality(name, rest []byte) int {
	switch {
	case bytes.HasPrefix(rest, name):
		return len(name)
	case hasPrefix(rest, "市辖区"):
		return len("市辖区")
	}
	return 0
}

// suffixRule: a division name ending in suffix has at most maxLen
// characters (suffix included).
type suffixRule struct {
	suffix string
	maxLen int
}

// A name ending in 区, 县 or 市 has at most 5 characters: the longest
// real ones (呼和浩特市, 香格里拉市, 浦东新区) have four before the
// suffix; a longer run is free text before a division (王小明朝阳区).
var citySuffixes = []suffixRule{{"自治州", 12}, {"地区", 7}, {"盟", 6}, {"市", 5}}

var districtSuffixes = []suffixRule{{"自治县", 16}, {"自治旗", 12}, {"旗", 10}, {"区", 5}, {"县", 5}, {"市", 5}}

// notDivisions are endings of places that are not divisions.
var notDivisions = []string{"小区", "社区", "校区", "园区", "街区", "景区", "片区", "营区", "厂区", "商务区", "商圈"}

// streetMarks are characters that, after the first, mark a street,
// town, village or building rather than a division.
const streetMarks = "路街道号弄巷村镇乡楼栋幢室园苑座场"

// matchDivision matches the shortest division name at the start of c
// (after optional spaces) that ends in one of the rules' suffixes, and
// returns its end, or 0. extend lets a district name run on by one more
// suffix character (红旗区, 沙市区).
func matchDivision(c []byte, rules []suffixRule, extend bool) int {
	spaces := len(c) - len(trimLeftSpace(c))
	s := c[spaces:]
	n := 0 // characters so far
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if !unicode.Is(unicode.Han, r) {
			return 0
		}
		if n > 0 && strings.ContainsRune(streetMarks, r) && !townInName(r, s[i+size:]) {
			return 0
		}
		i += size
		n++
		seg := s[:i]
		for _, rule := range rules {
			if !hasSuffix(seg, rule.suffix) {
				continue
			}
			if n > rule.maxLen {
				return 0
			}
			if n < 2 || n == utf8.RuneCountInString(rule.suffix) {
				break // 市 alone (as in 市中区) or a bare suffix: keep going
			}
			for _, bad := range notDivisions {
				if hasSuffix(seg, bad) {
					return 0
				}
			}
			if extend && n < rule.maxLen && runsOn(s[i:]) {
				_, size := utf8.DecodeRune(s[i:])
				i += size
			}
			return spaces + i
		}
		if n >= 16 {
			return 0
		}
	}
	return 0
}

// townInName allows 乡 inside real division names: 新乡市, 萍乡市,
// 东乡族自治县 (followed by the suffix or by 族).
func townInName(r rune, after []byte) bool {
	if r != '乡' {
		return false
	}
	next, _ := utf8.DecodeRune(after)
	return next == '市' || next == '区' || next == '县' || next == '族'
}

func trimLeftSpace(c []byte) []byte {
	for len(c) > 0 {
		r, size := utf8.DecodeRune(c)
		if !unicode.IsSpace(r) {
			break
		}
		c = c[size:]
	}
	return c
}

// runsOn reports whether rest starts with 区, 县 or 旗: the match so far
// was part of a longer name (红旗区, 沙市区).
func runsOn(rest []byte) bool {
	r, _ := utf8.DecodeRune(rest)
	return r == '区' || r == '县' || r == '旗'
}
