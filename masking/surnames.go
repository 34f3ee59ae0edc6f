package masking

// compoundSurnames are two-character (复姓) surnames, simplified and
// traditional. A name of three or more characters starting with one of
// them keeps both characters as its surname (欧阳娜娜 → 欧阳**); a
// two-character name never does (欧阳 is then surname 欧, given name 阳),
// nor, in display masking, a three-character name starting with one of
// ambiguousCompound.
var compoundSurnames = map[string]bool{}

// ambiguousCompound are the compound surnames whose first character is a
// common surname of its own and whose second is a common first character
// of a given name: in a three-character name cn_name shows only the first
// (单于飞 → 单**, as 单 + 于飞 is at least as likely).
var ambiguousCompound = map[string]bool{
	"单于": true, "范姜": true, "张简": true, "张廖": true, "陈张": true, "钟离": true,
	"梁丘": true, "段干": true, "万俟": true, "申屠": true, "宗政": true, "乐正": true,
	"夏侯": true,
	"張簡": true, "張廖": true, "陳張": true, "鍾離": true, "萬俟": true, "樂正": true,
}

func init() {
	for _, s := range []string{
		"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
		"宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里",
		"呼延", "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "太叔", "申屠", "仲孙",
		"钟离", "闾丘", "东郭", "公羊", "万俟", "拓跋", "赫连", "司空", "左丘", "谷梁",
		"梁丘", "第五", "鲜于", "亓官", "司寇", "巫马", "公西", "颛孙", "壤驷", "乐正",
		"漆雕", "子车", "微生", "段干", "羊舌", "东门", "公良", "宰父", "夹谷",
		"公叔", "公户", "公玉", "公仪", "南门", "欧侯", "呼衍", "即墨", "司城",
		"范姜", "张简", "张廖", "陈张", "东里", "叱干", "尉缭",
		// traditional forms
		"歐陽", "司馬", "諸葛", "東方", "尉遲", "公孫", "長孫", "軒轅", "獨孤", "南宮",
		"西門", "澹臺", "鍾離", "閭丘", "東郭", "萬俟", "赫連", "穀梁", "鮮于", "顓孫",
		"壤駟", "樂正", "漆雕", "子車", "東門", "夾谷", "張簡", "張廖", "陳張", "東里",
	} {
		compoundSurnames[s] = true
	}
}
