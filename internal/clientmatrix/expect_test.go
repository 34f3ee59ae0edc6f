package clientmatrix

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/masking"
)

// The real identity numbers of cm.people, in id order (3 has none).
var realIDs = []string{"310105199003078032", "11010519491231002X"}

// expected is what the scenario prints for role, per the policy: the
// clerk sees the table as it is; the analyst sees names and mobiles
// masked (a compound surname is kept whole), salaries rounded to
// thousands (the column keeps its scale) and identity numbers as tokens,
// finds a row by its token and nothing by the real value, and is refused
// a LIKE on the masked mobile. skip lists the steps a client cannot do.
func expected(t *testing.T, e *env, role string, skip ...string) []string {
	t.Helper()
	var want []string
	switch role {
	case clerk:
		want = []string{
			"simple:1|张伟|310105199003078032|13812345678|12345.67",
			"simple:2|欧阳明|11010519491231002X|13987654321|8800.00",
			"simple:3|李娜|NULL|15000001111|NULL",
			"param:欧阳明|11010519491231002X|13987654321",
			"search:2",
			"guess:1",
			"tx:1", "tx:0",
			"copy_out:1|张伟|310105199003078032",
			"copy_out:2|欧阳明|11010519491231002X",
			`copy_out:3|李娜|\N`,
			"copy_in:2",
			"refused:1",
			"after:1",
		}
	case analyst:
		tok := e.tokens(t)
		want = []string{
			"simple:1|张*|" + tok[0] + "|138****5678|12000.00",
			"simple:2|欧阳*|" + tok[1] + "|139****4321|9000.00",
			"simple:3|李*|NULL|150****1111|NULL",
			"param:欧阳*|" + tok[1] + "|139****4321",
			"search:2",
			"guess:0",
			"tx:1", "tx:0",
			"copy_out:1|张*|" + tok[0],
			"copy_out:2|欧阳*|" + tok[1],
			`copy_out:3|李*|\N`,
			"copy_in:2",
			"refused:ERROR 42501",
			"after:1",
		}
	default:
		t.Fatalf("no expectation for role %s", role)
	}
	var out []string
	for _, l := range want {
		step, _, _ := strings.Cut(l, ":")
		if !slices.Contains(skip, step) {
			out = append(out, l)
		}
	}
	return out
}

var (
	tokOnce sync.Once
	toks    []string
)

// tokens returns the analyst's tokens of realIDs, read through pgmantle
// once and checked: valid identity numbers, different from the real ones,
// and reversed to the real ones by `pgmantle detokenize` with the key
// file pgmantle serves with.
func (e *env) tokens(t *testing.T) []string {
	t.Helper()
	tokOnce.Do(func() {
		conn := pgtest.Connect(t, e.url(analyst))
		rows, err := conn.Query(context.Background(), "SELECT id_no FROM cm.people WHERE id IN (1, 2) ORDER BY id", pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(realIDs) {
			t.Fatalf("tokens: %d rows", len(got))
		}
		for i, tok := range got {
			if tok == realIDs[i] || !masking.ValidCNID(tok) {
				t.Fatalf("token %d is not a valid, different identity number: %q", i, tok)
			}
			out, err := exec.Command(e.bin, "detokenize", "--config", filepath.Join(e.dir, "pgmantle.yaml"), "--class", "cn_id", tok).Output()
			if err != nil || strings.TrimSpace(string(out)) != realIDs[i] {
				t.Fatalf("detokenize token %d: %v (got %d bytes)", i, err, len(out))
			}
		}
		toks = got
	})
	if toks == nil {
		t.Fatal("tokens unavailable (an earlier test failed reading them)")
	}
	return toks
}

// compare fails t with a line diff unless got equals want.
func compare(t *testing.T, got, want []string) {
	t.Helper()
	n := max(len(got), len(want))
	var diff []string
	for i := range n {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		mark := "  "
		if g != w {
			mark = "!="
		}
		diff = append(diff, mark+" got "+quoteOrNone(g, i < len(got))+"   want "+quoteOrNone(w, i < len(want)))
	}
	for i := range n {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			t.Fatalf("output differs from the policy's expectation:\n%s", strings.Join(diff, "\n"))
		}
	}
}

func quoteOrNone(s string, ok bool) string {
	if !ok {
		return "(none)"
	}
	return "\"" + s + "\""
}
