package proxy_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestPsql runs psql as a process through the proxy.
func TestPsql(t *testing.T) {
	t.Parallel()
	p := startProxy(t, nil)
	user, password := createRole(t, pgcluster.AuthSCRAM)
	env := p.libpqEnv(user, password, createDatabase(t, user))

	t.Run("multi_statement", func(t *testing.T) {
		r := psql(t, env, "", "-c",
			"CREATE TEMP TABLE m (a int); INSERT INTO m VALUES (1), (2), (39); SELECT current_user, sum(a) FROM m; SELECT 'done'")
		if r.err != nil {
			t.Fatal(r)
		}
		if r.stdout != "CREATE TABLE\nINSERT 0 3\n"+user+"|42\ndone\n" {
			t.Fatalf("unexpected output:\n%s", r)
		}
		// A script on stdin that fails halfway stops there (ON_ERROR_STOP)
		// with PostgreSQL's error.
		r = psql(t, env, "SELECT 'first';\nSELECT 1/0;\nSELECT 'never';\n")
		var ee *exec.ExitError
		if !errors.As(r.err, &ee) || ee.ExitCode() != 3 {
			t.Fatalf("want exit status 3 (script error), got:\n%s", r)
		}
		if r.stdout != "first\n" || !strings.Contains(r.stderr, "ERROR:  division by zero") {
			t.Fatalf("unexpected output:\n%s", r)
		}
	})

	t.Run("copy_files", func(t *testing.T) {
		dir := t.TempDir()
		src, dst := uniqueName("psqlsrc"), uniqueName("psqldst")
		setup := "CREATE TABLE " + src + " (id int, t text, b bytea, j jsonb);" +
			"INSERT INTO " + src + " SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE 'line ' || i || E'\\twith tab\\nand newline \\\\ ☃' END," +
			" decode(md5(i::text), 'hex'), jsonb_build_object('i', i) FROM generate_series(1, 5000) i;" +
			"CREATE TABLE " + dst + " (LIKE " + src + ");"
		if r := psql(t, env, "", "-c", setup); r.err != nil {
			t.Fatal(r)
		}
		out := filepath.Join(dir, "out.tsv")
		csvOut := filepath.Join(dir, "out.csv")
		script := `\copy ` + src + ` TO '` + out + `'` + "\n" +
			`\copy ` + dst + ` FROM '` + out + `'` + "\n" +
			`\copy (SELECT * FROM ` + dst + ` ORDER BY id) TO '` + csvOut + `' WITH (FORMAT csv, HEADER)` + "\n" +
			`\copy ` + dst + ` FROM '` + csvOut + `' WITH (FORMAT csv, HEADER)` + "\n"
		r := psql(t, env, script)
		if r.err != nil {
			t.Fatal(r)
		}
		if r.stdout != "COPY 5000\nCOPY 5000\nCOPY 5000\nCOPY 5000\n" {
			t.Fatalf("unexpected output:\n%s", r)
		}
		// Every row made the round trip twice, unchanged.
		r = psql(t, env, "", "-c",
			"SELECT count(*) FROM "+dst+"; "+
				"SELECT count(*) FROM (SELECT * FROM "+src+" UNION ALL SELECT * FROM "+src+" EXCEPT ALL SELECT * FROM "+dst+") d")
		if r.err != nil || r.stdout != "10000\n0\n" {
			t.Fatalf("round-tripped rows differ:\n%s", r)
		}
		// The file psql wrote matches what the server produces directly.
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		direct := directConnDB(t, env["PGDATABASE"])
		if _, err := direct.PgConn().CopyTo(pgtest.Context(t), &want, "COPY "+src+" TO STDOUT"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("\\copy TO wrote %d bytes, direct COPY gives %d", len(got), want.Len())
		}
	})

	t.Run("cancel", func(t *testing.T) {
		app := uniqueName("psqlcancel")
		cenv := map[string]string{"PGAPPNAME": app}
		for k, v := range env {
			cenv[k] = v
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "psql", "-X", "-w", "-v", "ON_ERROR_STOP=1", "-c", "SELECT pg_sleep(30)")
		cmd.Env = clientEnv(cenv)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		admin := directConn(t)
		waitActive(t, admin, app, "pg_sleep")
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		var err error
		select {
		case err = <-done:
		case <-time.After(25 * time.Second):
			cmd.Process.Kill()
			t.Fatal("psql did not finish after SIGINT: the cancel did not reach PostgreSQL")
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("want exit status 1, got %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
		}
		if !strings.Contains(stderr.String(), "canceling statement due to user request") {
			t.Fatalf("stderr: %s", &stderr)
		}
		// The backend is no longer running the statement.
		waitFor(t, 10*time.Second, "the backend to leave the active state", func() (bool, error) {
			for _, s := range activityStates(t, admin, app) {
				if strings.HasPrefix(s, "active:") {
					return false, nil
				}
			}
			return true, nil
		})
	})
}
