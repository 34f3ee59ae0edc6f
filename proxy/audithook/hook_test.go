package audithook

import (
	"testing"

	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/parser"
	"github.com/pgmantle/pgmantle/policy"
)

func TestTags(t *testing.T) {
	cases := []struct {
		tag  string
		kind string
		rows int64
		ok   bool
	}{
		{"SELECT 5", "SELECT", 5, true},
		{"INSERT 0 12", "INSERT", 12, true},
		{"COPY 1000000", "COPY", 1000000, true},
		{"CREATE TABLE", "CREATE TABLE", 0, false},
		{"BEGIN", "BEGIN", 0, false},
		{"SET", "SET", 0, false},
		{"FETCH 99999999999999999999", "FETCH", 0, false}, // too long to be a count
		{"", "", 0, false},
	}
	for _, c := range cases {
		if k := tagKind([]byte(c.tag)); k != c.kind {
			t.Errorf("tagKind(%q) = %q, want %q", c.tag, k, c.kind)
		}
		if n, ok := tagRows([]byte(c.tag)); n != c.rows || ok != c.ok {
			t.Errorf("tagRows(%q) = %d, %v", c.tag, n, ok)
		}
	}
}

func TestDecisions(t *testing.T) {
	mask := policy.Action{Kind: policy.Mask, Mask: "cn_id"}
	tok := policy.Action{Kind: policy.Tokenize}
	cases := []struct {
		outputs  []parser.OutputPlan
		masks    string
		decision string
	}{
		{nil, "", audit.DecisionAllowed},
		{[]parser.OutputPlan{{Class: "cn_id", Action: policy.Action{Kind: policy.Clear}}}, "", audit.DecisionAllowed},
		{[]parser.OutputPlan{{Class: "cn_id", Action: mask}, {}}, "cn_id:cn_id", audit.DecisionMasked},
		{[]parser.OutputPlan{{Class: "cn_id", Action: mask}, {Class: "cn_mobile", Action: tok}, {Class: "cn_id", Action: mask}},
			"cn_id:cn_id,cn_mobile:tokenize", audit.DecisionTokenized},
	}
	for _, c := range cases {
		ms, d := masks(&parser.Decision{Outputs: c.outputs})
		got := ""
		for i, m := range ms {
			if i > 0 {
				got += ","
			}
			got += m
		}
		if got != c.masks || d != c.decision {
			t.Errorf("%v: masks %q decision %s", c.outputs, got, d)
		}
	}
	for msg, want := range map[string]string{
		refusedUnaudited.Message: "audit",
		"pgmantle: the FunctionCall message is not available to role \"x\"": "protocol",
		"pgmantle: class cn_id (t.c) is denied to role \"x\"":               "policy",
	} {
		if got := refusalReason(msg); got != want {
			t.Errorf("refusalReason(%q) = %s", msg, got)
		}
	}
}
