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

// TestLegacyChineseEncodings: clients running with client_encoding GBK
// (psql) or GB18030 (binary results) receive correctly masked Chinese names
// and addresses in their own encoding.
func TestLegacyChineseEncodings(t *testing.T) {
	addr, db := setup(t)
	host, port, _ := strings.Cut(addr, ":")
	const sql = "SELECT name, address FROM bk.contacts WHERE id = 1"
	const want = "张*|上海市浦东新区****"

	t.Run("psql GBK", func(t *testing.T) {
		cmd := exec.Command("psql", "-X", "-At", "-h", host, "-p", port, "-U", "analyst", "-d", db, "-c", sql)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCLIENTENCODING=GBK", "PGSSLMODE=disable")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("psql: %v\n%s", err, out)
		}
		got, err := simplifiedchinese.GBK.NewDecoder().Bytes(out)
		if err != nil {
			t.Fatalf("output is not GBK: %v", err)
		}
		if strings.TrimSpace(string(got)) != want {
			t.Fatalf("got %q, want %q", got, want)
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
