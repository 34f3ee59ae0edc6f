package faults

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/internal/proctest"
	"github.com/pgmantle/pgmantle/internal/vaulttest"
	"github.com/pgmantle/pgmantle/masking"
)

// TestVaultStopAndRestart: pgmantle tokenizes with a key from Vault. Vault
// is stopped: tokens keep coming from the cached keys — for the sessions
// already open and for new ones — and the outage shows in the metrics and
// the log; Vault is started again (the key written back, as from a
// backup): pgmantle recovers on its own, with the same tokens.
func TestVaultStopAndRestart(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	if err := c.CreateRole(ctx, "vault_analyst", "pw", pgcluster.AuthSCRAM); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, `DROP TABLE IF EXISTS people; CREATE TABLE people (id int, id_no text);
		INSERT INTO people VALUES (1, '310105199003078032'); GRANT SELECT ON people TO vault_analyst`); err != nil {
		t.Fatal(err)
	}
	v := vaulttest.Start(t)
	key := vaulttest.NewKey()
	v.PutKV(t, "pgmantle/tokenize", key)
	t.Setenv("VAULT_TOKEN", v.RootToken)

	dir := t.TempDir()
	policy := dir + "/policy.yaml"
	writeFile(t, policy, "classes:\n  cn_id: [public.people.id_no]\nroles:\n  vault_analyst: {rules: {cn_id: tokenize}}\n")
	adminPort, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	admin := fmt.Sprintf("127.0.0.1:%d", adminPort)
	p := startPgmantle(t, fmt.Sprintf(`policy: {file: %q}
catalog: {dsn: %q}
keys:
  refresh_interval: 1s
  vault: {address: %q, timeout: 1s, tokenize: {kv: secret/pgmantle/tokenize}}
admin: {listen: %q}
log: {level: info}
`, policy, c.DSN("postgres", "", "postgres"), v.Addr, admin))

	read := func(conn *pgx.Conn) string {
		t.Helper()
		var tok string
		if err := conn.QueryRow(ctx, "SELECT id_no FROM people WHERE id = 1").Scan(&tok); err != nil {
			t.Fatalf("read during the fault: %v", err)
		}
		return tok
	}
	connect := func() *pgx.Conn {
		t.Helper()
		conn, err := pgx.Connect(ctx, url(p, "vault_analyst", "pw", "vault-fault"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}
	open := connect()
	token := read(open)
	if token == "310105199003078032" || !masking.ValidCNID(token) {
		t.Fatalf("not a token: %q", token)
	}
	failing := func() float64 { return metric(t, admin, "pgmantle_keys_source_failing") }
	if failing() != 0 {
		t.Fatal("keys failing before the fault")
	}

	v.Stop()
	waitFor(t, 20*time.Second, "the outage to show in the metrics", func() bool { return failing() == 1 })
	if got := read(open); got != token {
		t.Fatal("an open session's token changed while Vault was down")
	}
	if got := read(connect()); got != token {
		t.Fatal("a new session's token differs while Vault was down")
	}
	if !strings.Contains(p.Log(), "cached keys keep serving") {
		t.Fatalf("outage not logged:\n%s", p.Log())
	}

	if err := v.Restart(); err != nil {
		t.Fatal(err)
	}
	v.PutKV(t, "pgmantle/tokenize", key)
	waitFor(t, 20*time.Second, "pgmantle to recover", func() bool { return failing() == 0 && strings.Contains(p.Log(), "reachable again") })
	if got := read(open); got != token {
		t.Fatal("the token changed after Vault came back with the same key")
	}
}

// metric reads one unlabelled sample from pgmantle's /metrics.
func metric(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
