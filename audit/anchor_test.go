package audit

import (
	"bytes"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

// headLogged runs one writer over path with n records and returns the
// chain head it logged at its close.
func headLogged(t *testing.T, path string, n int) *Head {
	t.Helper()
	var buf bytes.Buffer
	appendRun(t, path, n, Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))}, 0, 0)
	m := regexp.MustCompile(`msg="audit chain head" seq=(\d+) hash=([0-9a-f]{64})`).FindAllStringSubmatch(buf.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no chain head logged:\n%s", buf.String())
	}
	last := m[len(m)-1]
	h, err := ParseHead(last[1] + ":" + last[2])
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestVerifyHeadCatchesCleanCuts (red-team finding, 2026-11-29): a log cut
// back to an earlier run's close record, or cut mid-run and then restarted
// (which looks like a crash), verified OK. With the chain head pgmantle
// logged (kept apart from the audit log), verify catches both.
func TestVerifyHeadCatchesCleanCuts(t *testing.T) {
	path := writeLog(t, t.TempDir(), 3, Options{}) // run 1: records 1-5
	head := headLogged(t, path, 20)                // run 2: records 6-27
	if head.Seq != 27 {
		t.Fatalf("head logged at close: record %d, want 27", head.Seq)
	}
	all := lines(t, path)
	if _, err := VerifyWith([]string{path}, VerifyOptions{Head: head}); err != nil {
		t.Fatalf("intact log with its head: %v", err)
	}

	// Cut back to run 1's close record: a clean-looking end.
	writeLines(t, path, all[:5])
	if _, err := Verify([]string{path}, false); err != nil {
		t.Fatalf("control: without the head the cut log should verify (that is the hole): %v", err)
	}
	_, err := VerifyWith([]string{path}, VerifyOptions{Head: head})
	var b *Broken
	if !errors.As(err, &b) || !strings.Contains(b.Why, "records were removed from its end") {
		t.Errorf("cut back to an earlier close record, with the head: %v", err)
	}

	// Cut mid-run, then a restart (which records a recovered run).
	writeLines(t, path, all[:12])
	appendRun(t, path, 2, Options{}, 0, 0)
	if _, err := VerifyWith([]string{path}, VerifyOptions{Head: head}); err == nil {
		t.Error("a mid-run cut followed by a restart verified with the head")
	}

	// A head whose hash does not match its record.
	writeLines(t, path, all)
	bad := *head
	bad.Hash = strings.Repeat("0", 64)
	if _, err := VerifyWith([]string{path}, VerifyOptions{Head: &bad}); !errors.As(err, &b) || !strings.Contains(b.Why, "does not match the chain head") {
		t.Errorf("a wrong head hash: %v", err)
	}
	for _, s := range []string{"", "27", "x:" + head.Hash, "27:abc", "0:" + head.Hash} {
		if _, err := ParseHead(s); err == nil {
			t.Errorf("ParseHead(%q) accepted", s)
		}
	}
}
