package clientmatrix

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestJDBCPreparedStatementHealsAfterDDL: pgmantle refuses the Bind of a
// statement prepared before a catalog change (its analysis may no longer
// hold) with SQLSTATE 26000, which pgjdbc takes for a statement the server
// lost: it prepares it again and retries, so the application sees no error
// and the same masked value, and the audit log shows the one refusal.
func TestJDBCPreparedStatementHealsAfterDDL(t *testing.T) {
	e := setup(t)
	url := fmt.Sprintf("jdbc:postgresql://%s:%d/postgres?sslmode=verify-full&sslrootcert=%s&prepareThreshold=1&ApplicationName=clientmatrix-heal",
		e.host, e.port, e.caFile)
	cmd := exec.Command("java", "-cp", jdbcJar, "clients/Heal.java", url, analyst, passwords[analyst])
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(stdout)
	var out []string
	for sc.Scan() && sc.Text() != "ready" {
		out = append(out, sc.Text())
	}
	if len(out) != 3 || !strings.HasPrefix(out[0], "before:") || strings.Contains(out[0], "13812345678") {
		t.Fatalf("before the change: %q (stderr %s)", out, stderr.String())
	}
	refusals := countIn(t, e.auditLog, `"sqlstate":"26000"`)

	// The change, made directly in PostgreSQL, then seen by pgmantle.
	ctx := pgtest.Context(t)
	if err := e.direct.Exec(ctx, "CREATE TABLE cm.heal_marker (a int); GRANT SELECT ON cm.heal_marker TO analyst"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.direct.Exec(context.Background(), "DROP TABLE IF EXISTS cm.heal_marker") })
	waitKnown(t, e, "cm.heal_marker")

	io.WriteString(stdin, "go\n")
	stdin.Close()
	var after []string
	for sc.Scan() {
		after = append(after, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("Heal.java: %v\n%s", err, stderr.String())
	}
	want := "after:" + strings.TrimPrefix(out[0], "before:")
	if len(after) != 2 || after[0] != want || after[1] != want {
		t.Errorf("after the change: %q, want twice %q", after, want)
	}
	if n := countIn(t, e.auditLog, `"sqlstate":"26000"`); n != refusals+1 {
		t.Errorf("the audit log holds %d Bind refusals with 26000 more after the change, want 1", n-refusals)
	}
}

// waitKnown waits until pgmantle's catalog snapshot holds rel: the
// analyst can read it through pgmantle (an unknown name is refused).
func waitKnown(t *testing.T, e *env, rel string) {
	t.Helper()
	conn, err := pgx.Connect(pgtest.Context(t), e.url(analyst))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		err := conn.QueryRow(pgtest.Context(t), "SELECT count(*) FROM "+rel).Scan(&n)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgmantle never learnt of %s: %v", rel, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countIn counts the occurrences of s in a file, after giving the audit
// writer time to write what it holds (it writes every 10 ms).
func countIn(t *testing.T, path, s string) int {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), s)
}
