package clientmatrix

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// client is one entry of the matrix: how to run the scenario with it, and
// which steps it cannot do at all.
type client struct {
	name string
	skip []string
	run  func(t *testing.T, e *env, role, label string) []string
}

// systemPython is Debian's Python, which has Debian's psycopg2, psycopg
// and pyodbc packages; another python3 earlier on PATH would not.
const systemPython = "/usr/bin/python3"

// jdbcJar is Debian's libpostgresql-jdbc-java.
const jdbcJar = "/usr/share/java/postgresql.jar"

var clients = []client{
	{name: "pgx", run: func(t *testing.T, e *env, role, label string) []string {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := pgxScenario(ctx, e.url(role), label)
		if err != nil {
			t.Fatalf("pgx: %v", err)
		}
		return out
	}},
	{name: "libpq-go", skip: []string{"copy_out"}, run: func(t *testing.T, e *env, role, label string) []string {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := libpqScenario(ctx, e.dsn(role), label)
		if err != nil {
			t.Fatalf("lib/pq: %v", err)
		}
		return out
	}},
	{name: "psql", run: runPsql},
	{name: "psycopg2", run: func(t *testing.T, e *env, role, label string) []string {
		cmd := exec.Command(systemPython, "clients/scenario_psycopg2.py", label)
		cmd.Env = e.libpqEnv(role)
		return lines(run(t, cmd))
	}},
	{name: "psycopg3", run: func(t *testing.T, e *env, role, label string) []string {
		cmd := exec.Command(systemPython, "clients/scenario_psycopg3.py", label)
		cmd.Env = e.libpqEnv(role)
		return lines(run(t, cmd))
	}},
	{name: "pgjdbc", run: func(t *testing.T, e *env, role, label string) []string {
		url := fmt.Sprintf("jdbc:postgresql://%s:%d/postgres?sslmode=verify-full&sslrootcert=%s&prepareThreshold=1&ApplicationName=clientmatrix",
			e.host, e.port, e.caFile)
		cmd := exec.Command("java", "-cp", jdbcJar, "clients/Scenario.java", url, role, passwords[role], label)
		return lines(run(t, cmd))
	}},
	{name: "node-postgres", run: func(t *testing.T, e *env, role, label string) []string {
		cmd := exec.Command("node", "clients/node/scenario.js", label)
		cmd.Env = e.libpqEnv(role)
		return lines(run(t, cmd))
	}},
	{name: "psqlodbc", skip: []string{"copy_out", "copy_in"}, run: func(t *testing.T, e *env, role, label string) []string {
		conn := fmt.Sprintf("Driver=%s;Server=%s;Port=%d;Database=postgres;UID=%s;PWD=%s;SSLmode=verify-full;UseServerSidePrepare=1",
			odbcDriver(t), e.host, e.port, role, passwords[role])
		cmd := exec.Command(systemPython, "clients/scenario_odbc.py", label, conn)
		cmd.Env = e.libpqEnv(role)
		return lines(run(t, cmd))
	}},
}

// TestClientMatrix runs the scenario with every client as the clerk
// (unrestricted) and the analyst (masks and tokens) through pgmantle over
// TLS with SCRAM, and compares each output with the policy's expectation.
// A client that is not installed fails the test: scripts/test installs
// them all.
func TestClientMatrix(t *testing.T) {
	e := setup(t)
	for _, c := range clients {
		for _, role := range []string{clerk, analyst} {
			t.Run(c.name+"/"+role, func(t *testing.T) {
				label := c.name + "-" + role
				e.resetNotes(t, label)
				got := c.run(t, e, role, label)
				compare(t, got, expected(t, e, role, c.skip...))
			})
		}
	}
}

// runPsql runs clients/scenario.psql and turns psql's unaligned output
// into scenario lines: rows after an "@step" marker belong to that step;
// an error printed with VERBOSITY verbose becomes "ERROR <SQLSTATE>".
func runPsql(t *testing.T, e *env, role, label string) []string {
	cmd := exec.Command("psql", "-X", "-q", "-v", "client="+label, "-f", "clients/scenario.psql")
	cmd.Env = e.libpqEnv(role)
	script, err := os.ReadFile(filepath.Join("clients", "scenario.psql"))
	if err != nil {
		t.Fatal(err)
	}
	// The COPY rows in the script carry the label "psql"; give them this
	// run's label.
	tmp := filepath.Join(t.TempDir(), "scenario.psql")
	os.WriteFile(tmp, []byte(strings.ReplaceAll(string(script), "psql\tcopied", label+"\tcopied")), 0o644)
	cmd.Args[len(cmd.Args)-1] = tmp
	var combined strings.Builder
	cmd.Stdout, cmd.Stderr = &combined, &combined
	if err := cmd.Run(); err != nil {
		t.Fatalf("psql: %v\n%s", err, combined.String())
	}
	errLine := regexp.MustCompile(`ERROR:  ([0-9A-Z]{5}):`)
	var out []string
	step := ""
	for _, l := range lines(combined.String()) {
		switch {
		case strings.HasPrefix(l, "@"):
			step = l[1:]
		case errLine.MatchString(l):
			out = append(out, step+":ERROR "+errLine.FindStringSubmatch(l)[1])
		case strings.HasPrefix(l, "psql:") || strings.HasPrefix(l, "LOCATION:") || strings.HasPrefix(l, "DETAIL:") || strings.HasPrefix(l, "HINT:"):
			t.Logf("psql: %s", l)
		case step == "":
			t.Fatalf("psql printed %q before any step", l)
		default:
			out = append(out, step+":"+strings.ReplaceAll(l, "\t", "|"))
		}
	}
	return out
}

// odbcDriver finds psqlODBC's Unicode driver (Debian's odbc-postgresql).
func odbcDriver(t *testing.T) string {
	t.Helper()
	matches, _ := filepath.Glob("/usr/lib/*/odbc/psqlodbcw.so")
	if len(matches) == 0 {
		t.Fatal("psqlODBC not installed (Debian package odbc-postgresql)")
	}
	return matches[0]
}
