package clientmatrix

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/internal/certs"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/internal/proctest"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgcluster.Options{}) }

// Roles of the scenario and their passwords (SCRAM verifiers in the
// cluster; pgmantle only relays the exchange).
const (
	clerk   = "clerk"   // unrestricted: sees everything in clear
	analyst = "analyst" // restricted: masks and tokens
)

var passwords = map[string]string{clerk: "clerk-Pw-1", analyst: "analyst-Pw-1"}

const schemaSQL = `
DROP SCHEMA IF EXISTS cm CASCADE;
CREATE SCHEMA cm;
CREATE TABLE cm.people (id int PRIMARY KEY, name text, id_no text, mobile text, salary numeric(10,2));
INSERT INTO cm.people VALUES
  (1, '张伟', '310105199003078032', '13812345678', 12345.67),
  (2, '欧阳明', '11010519491231002X', '13987654321', 8800.00),
  (3, '李娜', NULL, '15000001111', NULL);
CREATE TABLE cm.notes (id serial PRIMARY KEY, client text NOT NULL, body text);
GRANT USAGE ON SCHEMA cm TO clerk, analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA cm TO clerk, analyst;
GRANT INSERT, DELETE ON cm.notes TO clerk, analyst;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA cm TO clerk, analyst;
`

const policyYAML = `
classes:
  cn_id:       [cm.people.id_no]
  cn_mobile:   [cm.people.mobile]
  person_name: [cm.people.name]
  salary:      [cm.people.salary]
roles:
  clerk: {unrestricted: true}
  analyst:
    rules:
      cn_id:       tokenize
      cn_mobile:   {mask: cn_mobile}
      person_name: {mask: cn_name}
      salary:      {mask: round, to: 1000}
default:
  rules: {"*": deny}
`

// env is the running pgmantle every test of the package shares.
type env struct {
	dir      string
	bin      string // the pgmantle binary built for the suite
	host     string // 127.0.0.1
	port     int    // pgmantle's client port (TLS required)
	caFile   string // the CA of pgmantle's server certificate
	direct   *pgcluster.Cluster
	auditLog string
}

var (
	envOnce sync.Once
	theEnv  *env
	envErr  error
)

// setup starts, once per package, the schema, the two roles, and pgmantle
// (the real binary, built here) with TLS required, the policy above, a
// local key file and an audit log.
func setup(t *testing.T) *env {
	t.Helper()
	envOnce.Do(func() { theEnv, envErr = start(pgtest.Cluster(t)) })
	if envErr != nil {
		t.Fatalf("clientmatrix: %v", envErr)
	}
	return theEnv
}

func start(c *pgcluster.Cluster) (*env, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, r := range []string{clerk, analyst} {
		if err := c.CreateRole(ctx, r, passwords[r], pgcluster.AuthSCRAM); err != nil {
			return nil, err
		}
	}
	if err := c.Exec(ctx, schemaSQL); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	dir, err := os.MkdirTemp("", "pgmantle-clientmatrix-")
	if err != nil {
		return nil, err
	}
	pgtest.AtExit(func() { os.RemoveAll(dir) })
	e := &env{dir: dir, host: "127.0.0.1", direct: c,
		auditLog: filepath.Join(dir, "audit.log")}

	if e.bin, err = proctest.Build(ctx, dir); err != nil {
		return nil, err
	}
	ca, err := certs.NewCA("pgmantle clientmatrix CA")
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := ca.Issue("127.0.0.1", []string{"127.0.0.1", "localhost"}, false)
	if err != nil {
		return nil, err
	}
	certFile, keyFile, err := certs.WriteKeyPair(dir, "server", certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	e.caFile = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(e.caFile, ca.CertPEM, 0o644); err != nil {
		return nil, err
	}
	keysFile := filepath.Join(dir, "keys.yaml")
	if out, err := exec.CommandContext(ctx, e.bin, "keys", "init", keysFile).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("keys init: %v\n%s", err, out)
	}
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(policyYAML), 0o644); err != nil {
		return nil, err
	}
	if e.port, err = proctest.FreePort(); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`listen: 127.0.0.1:%d
upstream: {address: %q}
tls: {mode: require, cert_file: %q, key_file: %q}
policy: {file: %q}
catalog: {dsn: %q}
keys: {file: %q}
audit: {file: %q, sync: interval}
log: {level: warn}
`, e.port, c.Addr(), certFile, keyFile, policyFile, c.DSN(c.SuperUser, "", "postgres"), keysFile, e.auditLog)
	cfgFile := filepath.Join(dir, "pgmantle.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(e.host, strconv.Itoa(e.port))
	p, err := proctest.Start(e.bin, []string{"serve", "--config", cfgFile}, addr, filepath.Join(dir, "pgmantle.log"))
	if err != nil {
		return nil, err
	}
	pgtest.AtExit(func() { p.Stop(30 * time.Second) })
	return e, nil
}

// dsn is the libpq keyword/value connection string for role through
// pgmantle: TLS with the server certificate verified, SCRAM.
func (e *env) dsn(role string) string {
	return fmt.Sprintf("host=%s port=%d dbname=postgres user=%s password=%s sslmode=verify-full sslrootcert=%s",
		e.host, e.port, role, passwords[role], e.caFile)
}

// url is the same as a postgres:// URL.
func (e *env) url(role string) string {
	return fmt.Sprintf("postgres://%s:%s@%s:%d/postgres?sslmode=verify-full&sslrootcert=%s",
		role, passwords[role], e.host, e.port, e.caFile)
}

// libpqEnv is the environment for libpq-based client processes.
func (e *env) libpqEnv(role string) []string {
	return append(os.Environ(),
		"PGHOST="+e.host, "PGPORT="+strconv.Itoa(e.port), "PGDATABASE=postgres",
		"PGUSER="+role, "PGPASSWORD="+passwords[role],
		"PGSSLMODE=verify-full", "PGSSLROOTCERT="+e.caFile,
		"PGAPPNAME=clientmatrix", "PGCONNECT_TIMEOUT=10")
}

// run runs a client process with a deadline and returns its stdout,
// failing t with both outputs if it exits non-zero.
func run(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(cmd.Args, " "), err, out.String(), errb.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("%s: no answer in 2 minutes\nstdout:\n%s\nstderr:\n%s", strings.Join(cmd.Args, " "), out.String(), errb.String())
	}
	return out.String()
}

// resetNotes removes the notes a client run left, so a run starts empty.
func (e *env) resetNotes(t *testing.T, client string) {
	t.Helper()
	if err := e.direct.Exec(pgtest.Context(t), "DELETE FROM cm.notes WHERE client = $1", client); err != nil {
		t.Fatal(err)
	}
}

// lines splits output into non-empty lines without trailing CR.
func lines(out string) []string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, "\r")
		if l != "" {
			ls = append(ls, l)
		}
	}
	return ls
}
