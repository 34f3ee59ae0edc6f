package keys

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"gopkg.in/yaml.v3"
)

// RotateFile adds a new version to a ring of the key file and returns it.
//
// The steps keep every existing version and never lose a new one:
//  1. resolve a symbolic link, so the key file itself is rotated and the
//     link stays a link;
//  2. hold an exclusive lock on the key file's directory for the whole
//     read-modify-write, so two rotations at once add two versions;
//  3. read the file under the lock (Fetch validates it as serve would);
//  4. write the new ring to a uniquely named temporary file beside it,
//     with the old file's owner and group and at most its mode (0600);
//  5. rename it over the key file and sync the directory.
func RotateFile(path, purpose string) (int, error) {
	if purpose != Tokenize && purpose != Hash {
		return 0, fmt.Errorf("unknown key ring %q (want %s or %s)", purpose, Tokenize, Hash)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return 0, fmt.Errorf("key file: %w", err)
	}
	dir := filepath.Dir(real)
	unlock, err := lockDir(dir)
	if err != nil {
		return 0, err
	}
	defer unlock()
	rings, err := (&FileProvider{Path: real}).Fetch(context.Background())
	if err != nil {
		return 0, err
	}
	raw, err := os.ReadFile(real)
	if err != nil {
		return 0, err
	}
	var kf keyFile
	if err := yaml.Unmarshal(raw, &kf); err != nil {
		return 0, fmt.Errorf("%s: %s", path, yamlLine(err))
	}
	next := 1
	if r := rings[purpose]; r != nil {
		next = r.Latest() + 1
	}
	if kf[purpose] == nil {
		kf[purpose] = map[int]string{}
	}
	kf[purpose][next] = newKey()
	if err := replaceKeyFile(real, kf); err != nil {
		return 0, err
	}
	return next, nil
}

// lockDir takes an exclusive advisory lock on dir and returns its release.
// The directory, not the key file, is locked: the rename replaces the
// file, and a lock on the old one would not exclude a rotation that opened
// the new one.
func lockDir(dir string) (func(), error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("key file directory: %w", err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return nil, fmt.Errorf("lock key file directory %s: %w", dir, err)
	}
	return func() {
		syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
		d.Close()
	}, nil
}

// replaceKeyFile writes kf to a temporary file in path's directory, gives
// it path's owner, group and mode (at most 0600) and renames it over path.
// The temporary file is removed on every error.
func replaceKeyFile(path string, kf keyFile) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	fh, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	tmp := fh.Name()
	fail := func(err error) error {
		fh.Close()
		os.Remove(tmp)
		return fmt.Errorf("key file: %w", err)
	}
	if err := fh.Chmod(st.Mode().Perm() & 0o600); err != nil {
		return fail(err)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && (int(sys.Uid) != os.Geteuid() || int(sys.Gid) != os.Getegid()) {
		if err := fh.Chown(int(sys.Uid), int(sys.Gid)); err != nil {
			return fail(fmt.Errorf("keep the owner of %s: %w", path, err))
		}
	}
	if err := writeKeys(fh, kf); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("key file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
