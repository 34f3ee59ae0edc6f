package policy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

const policyV1 = "classes: {salary: [bk.payroll.amount]}\nroles:\n  analyst: {rules: {salary: {mask: round, to: 1000}}}\n"
const policyV2 = "classes: {salary: [bk.payroll.amount]}\nroles:\n  analyst: {rules: {salary: clear}}\n"

func TestStoreReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(path, []byte(policyV1), 0o644)
	s, err := Open(path, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if g := s.Current().Generation; g != 1 {
		t.Fatalf("generation %d, want 1", g)
	}
	// Unchanged content: same generation.
	if err := s.Reload(); err != nil || s.Current().Generation != 1 {
		t.Fatalf("reload of unchanged file: %v, generation %d", err, s.Current().Generation)
	}
	// A valid change is swapped in.
	os.WriteFile(path, []byte(policyV2), 0o644)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if p := s.Current(); p.Generation != 2 || p.Resolve("analyst", nil).Action("salary").Kind != Clear {
		t.Fatalf("after reload: generation %d", p.Generation)
	}
	// An invalid change is rejected and the old policy stays.
	os.WriteFile(path, []byte("roles: [\n"), 0o644)
	if err := s.Reload(); err == nil {
		t.Fatal("invalid policy accepted")
	}
	if s.Current().Generation != 2 {
		t.Fatal("invalid policy replaced the current one")
	}
	// A policy the catalog check refuses is rejected too.
	s.check = func(*Policy) error { return errors.New("policy.yaml:2: unknown column") }
	os.WriteFile(path, []byte(policyV1), 0o644)
	if err := s.Reload(); err == nil || s.Current().Generation != 2 {
		t.Fatalf("checked reload: %v, generation %d", err, s.Current().Generation)
	}
}

func TestStoreOpenRejectsInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(path, []byte("roles: {a: {rules: {nope: clear}}}\n"), 0o644)
	if _, err := Open(path, nil, quiet()); err == nil {
		t.Fatal("invalid policy opened")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.yaml"), nil, quiet()); err == nil {
		t.Fatal("missing policy opened")
	}
}

func TestStoreWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(path, []byte(policyV1), 0o644)
	s, err := Open(path, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Watch(ctx, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	os.WriteFile(path, []byte(policyV2), 0o644)
	os.Chtimes(path, time.Now().Add(time.Second), time.Now().Add(time.Second))
	deadline := time.Now().Add(10 * time.Second)
	for s.Current().Generation != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not pick up the change")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
