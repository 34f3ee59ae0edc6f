package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// BinDirEnv names the environment variable that, when set, selects the
// directory holding initdb, pg_ctl and postgres.
const BinDirEnv = "PGMANTLE_PG_BINDIR"

// requiredBins are the executables a bin directory must contain.
var requiredBins = []string{"initdb", "pg_ctl", "postgres"}

// FindBinDir locates the PostgreSQL server binaries. It tries, in order:
// $PGMANTLE_PG_BINDIR, the directory of `postgres` on PATH (symlinks
// resolved), `pg_config --bindir`, then the newest /usr/lib/postgresql/*/bin.
// A set but unusable $PGMANTLE_PG_BINDIR is an error rather than skipped.
func FindBinDir() (string, error) {
	var tried []string
	if dir := os.Getenv(BinDirEnv); dir != "" {
		if err := checkBinDir(dir); err != nil {
			return "", fmt.Errorf("pgcluster: $%s=%s: %w", BinDirEnv, dir, err)
		}
		return dir, nil
	}
	tried = append(tried, "$"+BinDirEnv+" (unset)")

	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		err := checkBinDir(dir)
		if err == nil {
			return dir, nil
		}
		tried = append(tried, fmt.Sprintf("postgres on PATH (%s: %v)", dir, err))
	} else {
		tried = append(tried, "postgres on PATH (not found)")
	}

	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		err := checkBinDir(dir)
		if err == nil {
			return dir, nil
		}
		tried = append(tried, fmt.Sprintf("pg_config --bindir (%s: %v)", dir, err))
	} else {
		tried = append(tried, fmt.Sprintf("pg_config --bindir (%v)", err))
	}

	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionLess(dirs[j], dirs[i]) })
	for _, dir := range dirs {
		if checkBinDir(dir) == nil {
			return dir, nil
		}
	}
	tried = append(tried, fmt.Sprintf("/usr/lib/postgresql/*/bin (%d candidates, none complete)", len(dirs)))

	return "", fmt.Errorf("pgcluster: PostgreSQL server binaries (%s) not found; tried: %s",
		strings.Join(requiredBins, ", "), strings.Join(tried, "; "))
}

func checkBinDir(dir string) error {
	var missing []string
	for _, name := range requiredBins {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return errors.New("missing " + strings.Join(missing, ", "))
	}
	return nil
}

// versionLess orders /usr/lib/postgresql/<version>/bin paths numerically,
// so 9.6 < 10 < 15.
func versionLess(a, b string) bool {
	va := strings.Split(filepath.Base(filepath.Dir(a)), ".")
	vb := strings.Split(filepath.Base(filepath.Dir(b)), ".")
	for i := 0; i < len(va) && i < len(vb); i++ {
		na, errA := strconv.Atoi(va[i])
		nb, errB := strconv.Atoi(vb[i])
		if errA != nil || errB != nil {
			if va[i] != vb[i] {
				return va[i] < vb[i]
			}
			continue
		}
		if na != nb {
			return na < nb
		}
	}
	return len(va) < len(vb)
}
