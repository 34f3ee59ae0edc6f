package catalog

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"id_no", "id_no", true},
		{"id_no", "id_no2", false},
		{"id_no", "ID_NO", false},
		{"id*", "id", true},
		{"id*", "id_no", true},
		{"*no", "id_no", true},
		{"*no", "id_no_x", false},
		{"*_no*", "bank_no_hash", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYc_", false},
		{"**", "x", true},
		{"a?c", "abc", false}, // ? is literal
		{"a?c", "a?c", true},
		{"[ab]", "a", false},
		{"手机*", "手机号", true},
		{"*号", "手机号", true},
		{strings.Repeat("*a", 20) + "b", strings.Repeat("a", 60), false},
	} {
		if got := globMatch(c.pattern, c.name); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
}

// TestRoleMembershipCycle: PostgreSQL refuses membership cycles, but the
// closure must end on one anyway, and ignore unknown roles.
func TestRoleMembershipCycle(t *testing.T) {
	raw := &rawCatalog{
		roles: []*Role{{OID: 1, Name: "a"}, {OID: 2, Name: "b"}, {OID: 3, Name: "c"}, {OID: 4, Name: "d"}},
		members: []membership{
			{role: 2, member: 1}, // a in b
			{role: 1, member: 2}, // b in a
			{role: 1, member: 1}, // a in a
			{role: 1, member: 3}, // c in a
			{role: 99, member: 3},
			{role: 3, member: 4}, // d in c
		},
	}
	s := newSnapshot("db", time.Now(), raw)
	for name, want := range map[string][]string{
		"a": {"b"},
		"b": {"a"},
		"c": {"a", "b"},
		"d": {"a", "b", "c"},
	} {
		r, ok := s.Role(name)
		if !ok || !slices.Equal(r.MemberOf, want) {
			t.Errorf("%s: %+v, want %q", name, r, want)
		}
	}
}

func col(name string, num int16, typ uint32) Column {
	return Column{Name: name, Num: num, TypeOID: typ, TypeMod: -1}
}

// TestOriginGuards: cycles and type changes a real catalog does not have
// end in "unknown", not a hang or a wrong answer.
func TestOriginGuards(t *testing.T) {
	raw := &rawCatalog{
		rels: []*Relation{
			{OID: 1, Schema: "s", Name: "v1", Kind: KindView, Columns: []Column{col("x", 1, 25)}},
			{OID: 2, Schema: "s", Name: "v2", Kind: KindView, Columns: []Column{col("x", 1, 25)}},
			{OID: 10, Schema: "s", Name: "t10", Kind: KindTable, Columns: []Column{col("x", 1, 25)}},
			{OID: 11, Schema: "s", Name: "t11", Kind: KindTable, Columns: []Column{col("x", 1, 25)}},
			{OID: 20, Schema: "s", Name: "base", Kind: KindTable, Columns: []Column{col("n", 1, 23), col("x", 3, 25)}},
			{OID: 21, Schema: "s", Name: "v_typed", Kind: KindView, Columns: []Column{col("n", 1, 25), col("x", 2, 25)}},
			{OID: 22, Schema: "s", Name: "v_short", Kind: KindView, Columns: []Column{col("n", 1, 23), col("x", 2, 25)}},
			{OID: 23, Schema: "s", Name: "child", Kind: KindTable, Columns: []Column{col("x", 1, 23)}},
			{OID: 24, Schema: "s", Name: "v_missing", Kind: KindView, Columns: []Column{col("n", 1, 23)}},
		},
		inherits: []inheritance{{child: 10, parent: 11}, {child: 11, parent: 10}, {child: 23, parent: 20}, {child: 20, parent: 999}},
		origins: map[uint32][]viewOrigin{
			1:  {{2, 1}},
			2:  {{1, 1}},
			21: {{20, 1}, {20, 3}},
			22: {{20, 1}},    // fewer entries than columns
			24: {{12345, 1}}, // a relation not in the snapshot
			99: {{20, 1}},    // a view not in the snapshot
		},
	}
	s := newSnapshot("db", time.Now(), raw)
	for _, c := range []struct {
		oid    uint32
		attnum int16
		want   string
	}{
		{1, 1, ""},  // view cycle
		{10, 1, ""}, // inheritance cycle
		{21, 1, ""}, // type changes from text to integer
		{21, 2, "s.base.x"},
		{22, 1, ""}, // shape mismatch: lineage dropped
		{23, 1, ""}, // child column type differs from the parent's
		{20, 3, "s.base.x"},
		{24, 1, ""},
	} {
		ref, _, ok := s.Origin(c.oid, c.attnum)
		got := ""
		if ok {
			got = ref.String()
		}
		if got != c.want {
			t.Errorf("Origin(%d, %d) = %q, want %q", c.oid, c.attnum, got, c.want)
		}
	}
	if w := s.Warnings(); len(w) != 1 || !strings.Contains(w[0], "s.v_short") {
		t.Errorf("warnings %q", w)
	}
	if s.Relation(20).Parent != 0 {
		t.Error("parent outside the snapshot recorded")
	}
}
