package clientmatrix

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// pgDump dumps schema cm (without the notes' data, which other tests
// change) as role, through pgmantle or directly, in plain format. The
// \restrict key pg_dump would draw at random is fixed, when this pg_dump
// has one, so that two dumps can be compared.
func pgDump(t *testing.T, e *env, role string, direct bool) string {
	t.Helper()
	args := []string{"--no-password", "--schema=cm", "--exclude-table-data=cm.notes"}
	if help, _ := exec.Command("pg_dump", "--help").Output(); strings.Contains(string(help), "--restrict-key") {
		args = append(args, "--restrict-key=clientmatrix")
	}
	cmd := exec.Command("pg_dump", args...)
	cmd.Env = e.libpqEnv(role)
	if direct {
		cmd.Env = append(cmd.Env, "PGHOST="+e.direct.Host, "PGPORT="+strconv.Itoa(e.direct.Port), "PGSSLMODE=disable")
	}
	return run(t, cmd)
}

// TestPgDump: pg_dump through pgmantle as the unrestricted clerk gives the
// same bytes as pg_dump directly against PostgreSQL; as the analyst the
// dump differs only in the people's data, which comes out as the policy
// masks it (pg_dump reads data with COPY TO STDOUT).
func TestPgDump(t *testing.T) {
	e := setup(t)
	direct := pgDump(t, e, clerk, true)
	if !strings.Contains(direct, "COPY cm.people") || !strings.Contains(direct, "310105199003078032") {
		t.Fatalf("the direct dump has no people data:\n%s", direct)
	}

	if got := pgDump(t, e, clerk, false); got != direct {
		t.Fatalf("clerk's dump through pgmantle differs from the direct dump:\n%s", lineDiff(direct, got))
	}

	tok := e.tokens(t)
	masked := pgDump(t, e, analyst, false)
	want := strings.Replace(direct,
		"1\t张伟\t310105199003078032\t13812345678\t12345.67\n"+
			"2\t欧阳明\t11010519491231002X\t13987654321\t8800.00\n"+
			"3\t李娜\t\\N\t15000001111\t\\N\n",
		"1\t张*\t"+tok[0]+"\t138****5678\t12000.00\n"+
			"2\t欧阳*\t"+tok[1]+"\t139****4321\t9000.00\n"+
			"3\t李*\t\\N\t150****1111\t\\N\n", 1)
	if want == direct {
		t.Fatalf("the direct dump's people data is not in the expected form:\n%s", direct)
	}
	if masked != want {
		t.Fatalf("analyst's dump is not the direct dump with masked people:\n%s", lineDiff(want, masked))
	}
	for _, v := range append(realIDs, "张伟", "13812345678", "12345.67") {
		if strings.Contains(masked, v) {
			t.Fatalf("analyst's dump contains a clear value")
		}
	}
}

// lineDiff shows the lines where a and b differ.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "line "+strconv.Itoa(i+1)+":\n  want "+strconv.Quote(x)+"\n  got  "+strconv.Quote(y))
		}
		if len(out) > 20 {
			break
		}
	}
	return strings.Join(out, "\n")
}
