package resultmask_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPsqlMetaCommands: psql's describe commands keep working for a
// restricted role through pgmantle, whose refusals of the statistics,
// storage and WAL functions and of catalog text they must not trip over;
// the commands that show sizes (\dt+, \l+) are refused, as the README
// says, and the session's next command is served.
func TestPsqlMetaCommands(t *testing.T) {
	addr, db := setup(t)
	host, port, _ := strings.Cut(addr, ":")
	psql := func(cmds ...string) (string, error) {
		args := []string{"-X", "-At", "-h", host, "-p", port, "-U", "analyst", "-d", db}
		for _, c := range cmds {
			args = append(args, "-c", c)
		}
		cmd := exec.Command("psql", args...)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGSSLMODE=disable")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, meta := range []string{`\d bk.contacts`, `\d+ bk.contacts`, `\dt bk.*`, `\dv bk.*`, `\df bk.*`, `\dn`,
		`\du`, `\l`, `\di bk.*`, `\dx`, `\dT`, `\dp bk.*`, `\ds`, `\dm`, `\dD`, `\conninfo`} {
		if out, err := psql(meta); err != nil || strings.Contains(out, "ERROR") {
			t.Errorf("%s as a restricted role: %v\n%s", meta, err, out)
		}
	}
	out, _ := psql(`\dt+ bk.*`, `\dn`)
	if !strings.Contains(out, "pg_table_size is not available") || !strings.Contains(out, "bk|") {
		t.Errorf(`\dt+ then \dn: want the size refused and the next command served:%s`, out)
	}
}
