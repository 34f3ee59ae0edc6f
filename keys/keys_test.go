package keys

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestKeyFile: init writes a 0600 file and refuses to overwrite; the
// provider reads it, warns that it is insecure, and rotate adds versions.
func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	if err := InitFile(path); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", st.Mode().Perm())
	}
	if err := InitFile(path); err == nil || !strings.Contains(err.Error(), "never overwrites") {
		t.Fatalf("second init: %v", err)
	}
	var logs bytes.Buffer
	p, err := NewFileProvider(path, testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "INSECURE") {
		t.Fatalf("no insecure warning: %s", logs.String())
	}
	m, err := NewManager(context.Background(), p, testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	s1, err := m.Set(0)
	if err != nil || s1.TokenVersion() != 1 {
		t.Fatalf("set: %v %v", s1, err)
	}
	k1, _ := s1.TokenKey("cn_id")
	changed := 0
	m.OnChange = func() { changed++ }
	v, err := RotateFile(path, Tokenize)
	if err != nil || v != 2 {
		t.Fatalf("rotate: %d %v", v, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("rotated file mode %o", st.Mode().Perm())
	}
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if changed != 1 || m.Generation() != 2 {
		t.Fatalf("rotation not noticed: changed %d gen %d", changed, m.Generation())
	}
	s2, _ := m.Set(0)
	k2, _ := s2.TokenKey("cn_id")
	if s2.TokenVersion() != 2 || bytes.Equal(k1, k2) {
		t.Fatal("newest version not used")
	}
	s1b, err := m.Set(1)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := s1b.TokenKey("cn_id"); !bytes.Equal(k, k1) {
		t.Fatal("version 1 no longer gives its key")
	}
	if _, err := m.Set(7); err == nil || !strings.Contains(err.Error(), "version 7") {
		t.Fatalf("missing version: %v", err)
	}
	// refresh with nothing changed does not notify
	m.Refresh(context.Background())
	if changed != 1 {
		t.Fatal("unchanged refresh notified")
	}
	// an unreadable file: cached keys keep serving, the failure is visible
	os.Remove(path)
	if err := m.Refresh(context.Background()); err == nil {
		t.Fatal("refresh of a missing file succeeded")
	}
	if st := m.Status(); !st.Failing || st.Failures != 1 || st.LastError == "" {
		t.Fatalf("status %+v", st)
	}
	if s, err := m.Set(0); err != nil || s.TokenVersion() != 2 {
		t.Fatal("cached keys lost")
	}
}

// TestKeyFileErrors: malformed files are refused with the file and line,
// never the key text; loose permissions are refused.
func TestKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	secret := "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="
	cases := map[string]string{
		"short":   "tokenize:\n  1: " + base64.StdEncoding.EncodeToString([]byte("short")) + "\n",
		"notb64":  "tokenize:\n  1: '" + secret + "!!'\n",
		"unknown": "tokenise:\n  1: " + secret + "\n",
		"yaml":    "tokenize: [" + secret + "\n",
		"zero":    "tokenize:\n  0: " + secret + "\n",
	}
	for name, body := range cases {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(body), 0o600)
		_, err := (&FileProvider{Path: path}).Fetch(context.Background())
		if err == nil {
			t.Fatalf("%s accepted", name)
		}
		if strings.Contains(err.Error(), secret[:12]) {
			t.Fatalf("%s: error shows key material: %v", name, err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("%s: error does not name the file: %v", name, err)
		}
	}
	loose := filepath.Join(dir, "loose")
	os.WriteFile(loose, []byte("tokenize:\n  1: "+secret+"\n"), 0o644)
	if _, err := NewFileProvider(loose, nil); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("loose permissions: %v", err)
	}
}

// TestRedaction: printing rings, sets and managers shows versions only.
func TestRedaction(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	r, _ := NewRing(map[int][]byte{1: key, 3: key})
	s, _ := newSet(map[string]*Ring{Tokenize: r}, 0)
	var logs bytes.Buffer
	l := testLogger(&logs)
	l.Info("x", "ring", r, "set", s, "ringv", *r)
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		out := fmt.Sprintf(f, r) + fmt.Sprintf(f, *r) + fmt.Sprintf(f, s) + fmt.Sprintf(f, *s)
		if strings.Contains(out, "0123456789abcdef") || strings.Contains(out, "3031323334") {
			t.Fatalf("%s shows key: %s", f, out)
		}
	}
	if strings.Contains(logs.String(), "0123456789abcdef") {
		t.Fatalf("log shows key: %s", logs.String())
	}
	if !strings.Contains(fmt.Sprint(r), "[1 3]") {
		t.Fatalf("ring does not show versions: %v", r)
	}
}

// TestDerivation: per-class and per-purpose keys differ; hash keys come
// from the tokenize ring only when no hash ring exists.
func TestDerivation(t *testing.T) {
	a, _ := NewRing(map[int][]byte{1: bytes.Repeat([]byte{1}, 32)})
	b, _ := NewRing(map[int][]byte{1: bytes.Repeat([]byte{2}, 32)})
	only, _ := newSet(map[string]*Ring{Tokenize: a}, 0)
	both, _ := newSet(map[string]*Ring{Tokenize: a, Hash: b}, 0)
	t1, _ := only.TokenKey("cn_id")
	t2, _ := only.TokenKey("bank_card")
	h1, _ := only.HashKey("cn_id")
	h2, _ := both.HashKey("cn_id")
	t3, _ := both.TokenKey("cn_id")
	if bytes.Equal(t1, t2) || bytes.Equal(t1, h1) || bytes.Equal(h1, h2) || !bytes.Equal(t1, t3) || len(t1) != 32 {
		t.Fatal("derivation does not separate classes, purposes or rings")
	}
	hashOnly, _ := newSet(map[string]*Ring{Hash: b}, 0)
	if _, err := hashOnly.TokenKey("cn_id"); err == nil {
		t.Fatal("token key without a tokenize ring")
	}
	if _, err := newSet(map[string]*Ring{Hash: b}, 2); err == nil {
		t.Fatal("token version without a tokenize ring accepted")
	}
}
