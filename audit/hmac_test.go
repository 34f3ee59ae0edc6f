package audit

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestHMACChain: a keyed run verifies with its key only; an attacker who
// edits a record and recomputes the chain with SHA-256 (or a guessed
// key) is caught; restarts switch chains cleanly, and files that start
// inside a keyed run find their key version.
func TestHMACChain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	key := bytes.Repeat([]byte{7}, 32)
	keyOf := func(v int) ([]byte, error) {
		if v == 3 {
			return key, nil
		}
		return nil, fmt.Errorf("no key version %d", v)
	}
	appendRun(t, path, 5, Options{}, 0, 0)                                  // plain
	appendRun(t, path, 5, Options{ChainKey: key, ChainKeyVersion: 3}, 0, 0) // keyed
	if _, err := Verify([]string{path}, false); err == nil || !strings.Contains(err.Error(), "give the keys") {
		t.Fatalf("Verify without keys = %v", err)
	}
	s, err := VerifyWith([]string{path}, VerifyOptions{Key: keyOf})
	if err != nil || s.Keyed != 1 || s.Records != 14 {
		t.Fatalf("VerifyWith = %+v, %v", s, err)
	}
	if _, err := VerifyWith([]string{path}, VerifyOptions{Key: keyOf, RequireKeyed: true}); err == nil ||
		!strings.Contains(err.Error(), "plain SHA-256") {
		t.Fatalf("the plain run passed RequireKeyed: %v", err)
	}
	wrong := func(int) ([]byte, error) { return bytes.Repeat([]byte{8}, 32), nil }
	if _, err := VerifyWith([]string{path}, VerifyOptions{Key: wrong}); err == nil {
		t.Fatal("verified with the wrong key")
	}

	// An edit in the keyed run, with the chain recomputed without the key:
	// downgrading the open record to plain SHA-256 is caught when keyed
	// chains are required, and a re-keyed chain does not verify.
	ls := lines(t, path)
	openIdx := -1
	for i, l := range ls {
		if strings.Contains(l, `"chain":"hmac-sha256"`) {
			openIdx = i
		}
	}
	if openIdx < 0 {
		t.Fatal("no keyed open record")
	}
	for _, attackKey := range [][]byte{nil, bytes.Repeat([]byte{9}, 32)} {
		forged := append([]string(nil), ls...)
		forged[openIdx+2] = strings.Replace(forged[openIdx+2], `"rows":1`, `"rows":0`, 1)
		if attackKey == nil {
			forged[openIdx] = strings.Replace(forged[openIdx], `,"chain":"hmac-sha256","key_version":3`, "", 1)
		}
		c := newChainer(attackKey)
		for i := openIdx; i+1 < len(forged) && forged[i+1] != ""; i++ {
			line := strings.TrimSuffix(forged[i], "\n")
			next := strings.TrimSuffix(forged[i+1], "\n")
			j := strings.Index(next, `"prev":"`) + len(`"prev":"`)
			forged[i+1] = next[:j] + c.link([]byte(line)) + next[j+64:] + "\n"
		}
		forgedPath := filepath.Join(dir, fmt.Sprintf("forged-%d.log", len(attackKey)))
		writeLines(t, forgedPath, forged)
		_, err := VerifyWith([]string{forgedPath}, VerifyOptions{Key: keyOf, RequireKeyed: attackKey == nil})
		var b *Broken
		if !errors.As(err, &b) {
			t.Fatalf("forged log (attack key %x) = %v", attackKey, err)
		}
	}

	// Rotated files that start inside the keyed run.
	dir2 := t.TempDir()
	p2 := filepath.Join(dir2, "audit.log")
	appendRun(t, p2, 100, Options{ChainKey: key, ChainKeyVersion: 3}, 2048, 0)
	files := append(Rotated(p2), p2)
	if len(files) < 3 {
		t.Fatalf("%d files", len(files))
	}
	s, err = VerifyWith(files[1:], VerifyOptions{Key: keyOf, RequireKeyed: true})
	if err != nil || s.Keyed != 1 || s.Anchored {
		t.Fatalf("keyed files without their open record: %+v, %v", s, err)
	}
}
