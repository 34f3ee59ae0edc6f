package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/vaulttest"
	"github.com/pgmantle/pgmantle/masking"
)

// TestDemo runs the demo as a new user would: it loads the example and
// becomes ready, shows each role's view of the same query (clear,
// masked, tokenized, refused), every command it prints works when run —
// psql as each role, the audit verify and report — and Ctrl-C removes
// the throwaway cluster.
func TestDemo(t *testing.T) {
	t.Setenv("VAULT_ADDR", "")
	text := runDemo(t)
	if !strings.Contains(text, "VAULT_ADDR is not set: keys from an INSECURE local key file") {
		t.Errorf("the demo did not say its keys are an insecure local file:\n%s", text)
	}
}

// TestDemoWithVault: with VAULT_ADDR (and VAULT_TOKEN) set, the demo's
// keys come from Vault and the auditor's tokens are made with them.
func TestDemoWithVault(t *testing.T) {
	v := vaulttest.Start(t)
	v.Policy(t, "pgmantle", `path "secret/data/pgmantle/*" { capabilities = ["read"] }
path "secret/metadata/pgmantle/*" { capabilities = ["read"] }`)
	v.PutKV(t, "pgmantle/tokenize", vaulttest.NewKey())
	t.Setenv("VAULT_ADDR", v.Addr)
	t.Setenv("VAULT_TOKEN", v.Token(t, []string{"pgmantle"}, time.Hour, true))
	text := runDemo(t)
	if !strings.Contains(text, "keys from Vault at "+v.Addr+" (KV secret/pgmantle/tokenize") || strings.Contains(text, "INSECURE") {
		t.Errorf("the demo did not take its keys from Vault:\n%s", text)
	}
}

// startDemo runs the demo until it prints "Press Ctrl-C" and returns its
// output so far and stop, which cancels it (Ctrl-C) and waits for it; stop
// also runs at the test's cleanup.
func startDemo(t *testing.T, level string) (text string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- demo(ctx, "127.0.0.1:0", level, pw, io.Discard); pw.Close() }()
	var out strings.Builder
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				err = errors.New("demo did not stop")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return out.String(), stop
}

// runDemo runs the demo, checks what it shows and runs what it prints,
// stops it and returns its output.
func runDemo(t *testing.T) string {
	t.Helper()
	binDir, err := pgcluster.FindBinDir()
	if err != nil {
		t.Skip(err)
	}
	text, stop := startDemo(t, "warn")
	t.Log("\n" + text)
	ready := regexp.MustCompile(`ready in ([0-9.]+)s`).FindStringSubmatch(text)
	dir := regexp.MustCompile(`data in (\S+)\)`).FindStringSubmatch(text)
	if ready == nil || dir == nil {
		t.Fatalf("the demo did not become ready:\n%s", text)
	}
	if secs, _ := strconv.ParseFloat(ready[1], 64); secs > 15 {
		t.Logf("NOTE: ready in %.1fs, over the 15 s target", secs)
	}
	for _, table := range []string{"bk.contacts", "bk.payroll", "bk.ledger_vouchers"} {
		if !strings.Contains(text, table) {
			t.Errorf("no progress line for %s", table)
		}
	}

	// Each role's view of the query.
	view := map[string][]string{}
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			switch f[0] {
			case "bookkeeper", "analyst", "auditor", "intern":
				view[f[0]] = append(view[f[0]], strings.Join(f[1:], " "))
			}
		}
	}
	clearID := ""
	if v := view["bookkeeper"]; len(v) == 2 {
		clearID = strings.Fields(v[0])[1]
	}
	if !masking.ValidCNID(clearID) {
		t.Errorf("bookkeeper's view %q: no clear ID", view["bookkeeper"])
	}
	if v := view["analyst"]; len(v) != 2 || !regexp.MustCompile(`^\S+\* \d{6}\*{8}[\dX]{4} 1\d\d\*{4}\d{4}$`).MatchString(v[0]) {
		t.Errorf("analyst's view: %q", view["analyst"])
	}
	if v := view["auditor"]; len(v) != 2 || strings.Contains(v[0], clearID) || !masking.ValidCNID(strings.Fields(v[0])[1]) {
		t.Errorf("auditor's view (tokens): %q", view["auditor"])
	}
	if v := view["intern"]; len(v) != 1 || !strings.Contains(v[0], "refused") || !strings.Contains(v[0], "42501") {
		t.Errorf("intern's view: %q", view["intern"])
	}

	// Every printed command works.
	ran := 0
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "psql "):
			cmd := exec.Command("sh", "-c", l)
			cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			cmd.Stdin = strings.NewReader("SELECT current_user;\n")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s", l, err, b)
			}
			ran++
		case strings.HasPrefix(l, "pgmantle audit "), strings.HasPrefix(l, "go run ./cmd/pgmantle audit "):
			args := strings.Fields(strings.TrimPrefix(strings.TrimPrefix(l, "go run ./cmd/"), "pgmantle "))
			if code, o, e := runCmd(args...); code != 0 {
				t.Errorf("%s: exit %d\n%s%s", l, code, o, e)
			}
			ran++
		}
	}
	if ran < 7 {
		t.Errorf("only %d printed commands found", ran)
	}

	if err := stop(); err != nil { // Ctrl-C
		t.Fatalf("demo: %v", err)
	}
	if _, err := os.Stat(filepath.Clean(dir[1])); !os.IsNotExist(err) {
		t.Fatalf("the throwaway cluster %s was not removed (%v)", dir[1], err)
	}
	return text
}

// TestExampleConfig: the example's configuration is valid as shipped.
func TestExampleConfig(t *testing.T) {
	t.Chdir("../..") // the example's paths are relative to the repository root
	cfg, err := loadConfig("examples/bookkeeping/pgmantle.yaml", overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Policy.File != "examples/bookkeeping/policy.yaml" || cfg.Audit.Sink != "file" || cfg.Keys.File == "" || cfg.Admin.Listen == "" {
		t.Fatalf("example configuration: %+v", cfg)
	}
}
