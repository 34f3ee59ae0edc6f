package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/internal/vaulttest"
	"github.com/pgmantle/pgmantle/masking"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// TestKeysAndDetokenizeCommands: keys init writes a 0600 file once; a
// token made with it is reversed by detokenize; after keys rotate the
// default version changes and --key-version 1 still reverses old tokens.
func TestKeysAndDetokenizeCommands(t *testing.T) {
	dir := t.TempDir()
	kf := filepath.Join(dir, "keys.yaml")
	if code, out, errs := runCmd("keys", "init", kf); code != 0 || !strings.Contains(out, "INSECURE") {
		t.Fatalf("keys init: %d %s %s", code, out, errs)
	}
	if st, _ := os.Stat(kf); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", st.Mode().Perm())
	}
	if code, _, errs := runCmd("keys", "init", kf); code != 1 || !strings.Contains(errs, "never overwrites") {
		t.Fatalf("second init: %d %s", code, errs)
	}
	cfgFile := filepath.Join(dir, "pgmantle.yaml")
	os.WriteFile(cfgFile, []byte("keys:\n  file: "+kf+"\nlog:\n  level: warn\n"), 0o600)

	id := "310105199003078032"
	tok := tokenWith(t, kf, 0, id)
	code, out, errs := runCmd("detokenize", "--config", cfgFile, "--class", "cn_id", tok)
	if code != 0 || strings.TrimSpace(out) != id {
		t.Fatalf("detokenize: %d %q %s", code, out, errs)
	}
	if strings.Contains(errs, id) {
		t.Fatal("detokenize logged the value")
	}
	if code, out, _ := runCmd("keys", "rotate", kf); code != 0 || !strings.Contains(out, "version 2") {
		t.Fatalf("rotate: %d %s", code, out)
	}
	if _, out, _ := runCmd("detokenize", "--config", cfgFile, "--class", "cn_id", tok); strings.TrimSpace(out) == id {
		t.Fatal("version 2 reversed a version 1 token")
	}
	if _, out, _ := runCmd("detokenize", "--keys-file", kf, "--class", "cn_id", "--key-version", "1", tok); strings.TrimSpace(out) != id {
		t.Fatalf("--key-version 1: %q", out)
	}
	if code, _, errs := runCmd("detokenize", "--config", cfgFile, "--class", "person_name", "张伟"); code != 1 || !strings.Contains(errs, "one-way") {
		t.Fatalf("names: %d %s", code, errs)
	}
	if code, _, errs := runCmd("detokenize", "--class", "cn_id", tok); code != 1 || !strings.Contains(errs, "needs keys") {
		t.Fatalf("no keys: %d %s", code, errs)
	}
}

// tokenWith tokenizes a value as pgmantle would with a key file version
// (0: the newest).
func tokenWith(t *testing.T, keyFile string, version int, v string) string {
	t.Helper()
	cfg, err := loadConfig("", overrides{keysFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	km, err := openKeys(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer km.Close()
	set, err := km.Set(version)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := masking.NewTokenizer("cn_id", masking.Options{}, set)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tk.Token(nil, []byte(v))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestServeTokensWithVault: serve with keys from a real Vault shows
// tokens to the analyst; detokenize with the same configuration reverses
// them; a policy that tokenizes without keys, or pins a version Vault
// does not have, stops startup with a clear error.
func TestServeTokensWithVault(t *testing.T) {
	c := pgtest.Cluster(t)
	ctx := pgtest.Context(t)
	db := "keys_serve"
	c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	if err := c.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	for _, r := range bookkeeping.Roles {
		c.CreateRole(ctx, r, "pw", pgcluster.AuthSCRAM)
	}
	conn := pgtest.Connect(t, c.DSN("postgres", "", db))
	if _, err := conn.Exec(ctx, bookkeeping.Schema+`; GRANT USAGE ON SCHEMA bk TO PUBLIC; GRANT SELECT ON ALL TABLES IN SCHEMA bk TO PUBLIC;
		INSERT INTO bk.client_companies VALUES (1, 'x', '91350100M000100Y43', '欧阳明', NULL);
		INSERT INTO bk.contacts (id, company_id, name, id_no) VALUES (1, 1, '张伟', '310105199003078032')`); err != nil {
		t.Fatal(err)
	}
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", `path "secret/data/pgmantle/*" { capabilities = ["read"] }
path "secret/metadata/pgmantle/*" { capabilities = ["read"] }`)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	t.Setenv("VAULT_TOKEN", v.Token(t, []string{"pgmantle"}, time.Hour, true))

	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	writePolicy := func(extra string) {
		os.WriteFile(pol, []byte("classes:\n  cn_id: [bk.contacts.id_no]\nroles:\n  analyst: {rules: {cn_id: tokenize}}\n"+extra), 0o600)
	}
	writePolicy("")
	base := fmt.Sprintf("listen: 127.0.0.1:0\nupstream: {address: %s}\ncatalog: {dsn: %q}\npolicy: {file: %s}\nlog: {level: warn}\n",
		c.Addr(), c.DSN("postgres", "", db), pol)
	noKeys := filepath.Join(dir, "nokeys.yaml")
	os.WriteFile(noKeys, []byte(base), 0o600)
	withVault := filepath.Join(dir, "vault.yaml")
	os.WriteFile(withVault, []byte(base+fmt.Sprintf("keys:\n  vault:\n    address: %s\n    tokenize: {kv: secret/pgmantle/tokenize}\n", v.Addr)), 0o600)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(cfgFile string) (string, func(), error) {
		cfg, err := loadConfig(cfgFile, overrides{})
		if err != nil {
			return "", nil, err
		}
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		sctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- serve(sctx, cfg, l, quiet) }()
		select {
		case err := <-done:
			stop()
			return "", nil, err
		case <-time.After(1500 * time.Millisecond):
		}
		return l.Addr().String(), func() { stop(); <-done }, nil
	}
	if _, _, err := start(noKeys); err == nil || !strings.Contains(err.Error(), "needs keys") {
		t.Fatalf("tokenize without keys: %v", err)
	}
	writePolicy("keys:\n  tokenize_version: 5\n")
	if _, _, err := start(withVault); err == nil || !strings.Contains(err.Error(), "version 5") {
		t.Fatalf("missing version: %v", err)
	}
	writePolicy("")
	addr, stop, err := start(withVault)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ac, err := pgx.Connect(ctx, "postgres://analyst:pw@"+addr+"/"+db+"?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close(ctx)
	var tok string
	if err := ac.QueryRow(ctx, "SELECT id_no FROM bk.contacts WHERE id = 1").Scan(&tok); err != nil {
		t.Fatal(err)
	}
	if tok == "310105199003078032" || !masking.ValidCNID(tok) {
		t.Fatalf("analyst read %q", tok)
	}
	var id int
	if err := ac.QueryRow(ctx, "SELECT id FROM bk.contacts WHERE id_no = $1", tok).Scan(&id); err != nil || id != 1 {
		t.Fatalf("search by token: %d %v", id, err)
	}
	if code, out, errs := runCmd("detokenize", "--config", withVault, "--class", "cn_id", tok); code != 0 || strings.TrimSpace(out) != "310105199003078032" {
		t.Fatalf("detokenize with Vault: %d %q %s", code, out, errs)
	}
}
