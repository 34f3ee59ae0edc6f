package keys

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileProvider reads the rings from a local YAML file:
//
//	tokenize:
//	  1: <base64 of 32 random bytes>
//	hash:
//	  1: <base64 ...>
//
// The keys sit unencrypted on disk: the file is for demos and quick trials
// only, and the provider says so in the log. Fetch re-reads the file, so
// adding a version (pgmantle keys rotate) rotates without a restart.
type FileProvider struct {
	Path string
}

// NewFileProvider checks the file's permissions (no access for group or
// others) and announces the provider as insecure.
func NewFileProvider(path string, logger *slog.Logger) (*FileProvider, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is accessible to other users (mode %04o); chmod 600 it", path, st.Mode().Perm())
	}
	if logger != nil {
		logger.Warn("INSECURE: keys come from a local file, unencrypted on disk; use Vault for real data", "file", path)
	}
	return &FileProvider{Path: path}, nil
}

// Describe names the file.
func (f *FileProvider) Describe() string { return "key file " + f.Path }

// Close does nothing.
func (f *FileProvider) Close() {}

// keyFile is the file's layout.
type keyFile map[string]map[int]string

// Fetch reads and decodes the file.
func (f *FileProvider) Fetch(context.Context) (map[string]*Ring, error) {
	raw, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var kf keyFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&kf); err != nil {
		// yaml errors quote the offending text, which may be key material:
		// keep only the line.
		return nil, fmt.Errorf("%s: not a key file (want purpose: {version: base64 key}): %s", f.Path, yamlLine(err))
	}
	rings := map[string]*Ring{}
	for purpose, versions := range kf {
		if purpose != Tokenize && purpose != Hash {
			return nil, fmt.Errorf("%s: unknown key ring %q (want %s or %s)", f.Path, purpose, Tokenize, Hash)
		}
		raw := map[int][]byte{}
		for v, b64 := range versions {
			k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
			if err != nil {
				return nil, fmt.Errorf("%s: %s version %d is not base64", f.Path, purpose, v)
			}
			raw[v] = k
		}
		r, err := NewRing(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", f.Path, purpose, err)
		}
		rings[purpose] = r
	}
	return rings, nil
}

// yamlLine reduces a yaml error to its line number.
func yamlLine(err error) string {
	s := err.Error()
	if i := strings.Index(s, "line "); i >= 0 {
		j := i + 5
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return s[i:j]
	}
	return "malformed YAML"
}

const fileHeader = "# pgmantle key file. INSECURE: the keys below are unencrypted on disk.\n" +
	"# For demos and quick trials only; use Vault for real data (README, \"Keys\").\n"

// InitFile writes a new key file with version 1 of both rings, mode 0600.
// It refuses to overwrite an existing file.
func InitFile(path string) error {
	kf := keyFile{Tokenize: {1: newKey()}, Hash: {1: newKey()}}
	return writeFile(path, kf, os.O_CREATE|os.O_EXCL|os.O_WRONLY)
}

func newKey() string {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("crypto/rand failed") // never returns an error on supported platforms
	}
	return base64.StdEncoding.EncodeToString(k)
}

func writeFile(path string, kf keyFile, flag int) error {
	fh, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists; pgmantle never overwrites a key file", path)
		}
		return err
	}
	return writeKeys(fh, kf)
}

// writeKeys writes kf to fh, syncs and closes it.
func writeKeys(fh *os.File, kf keyFile) error {
	var b strings.Builder
	b.WriteString(fileHeader)
	purposes := make([]string, 0, len(kf))
	for p := range kf {
		purposes = append(purposes, p)
	}
	slices.Sort(purposes)
	for _, p := range purposes {
		fmt.Fprintf(&b, "%s:\n", p)
		vs := make([]int, 0, len(kf[p]))
		for v := range kf[p] {
			vs = append(vs, v)
		}
		slices.Sort(vs)
		for _, v := range vs {
			fmt.Fprintf(&b, "  %d: %s\n", v, kf[p][v])
		}
	}
	if _, err := fh.WriteString(b.String()); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
