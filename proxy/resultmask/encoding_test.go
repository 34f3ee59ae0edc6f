package resultmask_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestLegacyChineseEncodings: clients running with client_encoding
// GB18030 (psql, binary results) receive correctly masked Chinese names
// and addresses in their own encoding. In GBK, which lacks characters,
// masked text is refused before the statement runs (whether PostgreSQL
// could convert a value would tell about its hidden characters; red-team
// round 20), and the session goes on with its clean columns.
func TestLegacyChineseEncodings(t *testing.T) {
	addr, db := setup(t)
	host, port, _ := strings.Cut(addr, ":")
	const sql = "SELECT name, address FROM bk.contacts WHERE id = 1"
	const want = "张*|上海市浦东新区****"
	psql := func(encoding string, sqls ...string) (string, error) {
		args := []string{"-X", "-At", "-h", host, "-p", port, "-U", "analyst", "-d", db}
		for _, s := range sqls {
			args = append(args, "-c", s)
		}
		cmd := exec.Command("psql", args...)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCLIENTENCODING="+encoding, "PGSSLMODE=disable")
		out, err := cmd.CombinedOutput()
		got, derr := simplifiedchinese.GB18030.NewDecoder().Bytes(out)
		if derr != nil {
			t.Fatalf("output is not %s: %v", encoding, derr)
		}
		return strings.TrimSpace(string(got)), err
	}

	t.Run("psql GB18030", func(t *testing.T) {
		got, err := psql("GB18030", sql)
		if err != nil || got != want {
			t.Fatalf("got %q (%v), want %q", got, err, want)
		}
	})

	t.Run("psql GBK", func(t *testing.T) {
		got, err := psql("GBK", sql, "SELECT id, company_id FROM bk.contacts WHERE id = 1")
		if !strings.Contains(got, "client_encoding GBK cannot hold every character") || strings.Contains(got, "FATAL") {
			t.Fatalf("masked text in GBK: got %q (%v), want a refusal of the statement", got, err)
		}
		if !strings.Contains(got, "1|1") {
			t.Fatalf("the session did not go on with clean columns: %q", got)
		}
	})

	t.Run("GB18030 binary", func(t *testing.T) {
		cfg, err := pgconn.ParseConfig("postgres://analyst:" + password + "@" + addr + "/" + db + "?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["client_encoding"] = "GB18030"
		ctx := pgtest.Context(t)
		conn, err := pgconn.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		res := conn.ExecParams(ctx, sql, nil, nil, nil, []int16{1, 1}).Read()
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		dec := simplifiedchinese.GB18030.NewDecoder()
		name, _ := dec.Bytes(res.Rows[0][0])
		address, _ := dec.Bytes(res.Rows[0][1])
		if got := string(name) + "|" + string(address); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
