package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startAttempts bounds retries when the chosen port is taken by the time
// the server binds it.
const startAttempts = 3

// pickPort returns a currently free loopback TCP port. It is a variable so
// tests can force a collision.
var pickPort = func() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startFreePort starts the server on a free port, retrying with a new port
// when another process grabs it first.
func (c *Cluster) startFreePort(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		port, perr := pickPort()
		if perr != nil {
			return fmt.Errorf("pgcluster: pick port: %w", perr)
		}
		c.Port = port
		err = c.startServer(ctx)
		if err == nil || !errors.Is(err, errPortInUse) {
			return err
		}
		c.logf("pgcluster: port %d in use (attempt %d/%d)", port, attempt, startAttempts)
	}
	return err
}

var errPortInUse = errors.New("port in use")

// startServer writes the settings for c.Port and runs pg_ctl start.
// c.mu must be held.
func (c *Cluster) startServer(ctx context.Context) error {
	if err := c.writeSettings(); err != nil {
		return err
	}
	logStart := fileSize(c.logFile())
	c.running = true
	cmd := c.owner.command(ctx, c.BinDir, c.Dir, "pg_ctl",
		"-D", c.dataDir(), "-l", c.logFile(), "-w", "-t", "60", "start")
	err := run(cmd)
	if err == nil {
		return nil
	}
	log := readFrom(c.logFile(), logStart)
	// The postmaster may still be coming up (timeout, cancelled ctx).
	c.stopServer(context.Background())
	if strings.Contains(log, "Address already in use") {
		err = fmt.Errorf("%w: %w", errPortInUse, err)
	}
	return fmt.Errorf("pgcluster: start on port %d: %w\n--- %s (tail) ---\n%s",
		c.Port, err, c.logFile(), tail(log, 30))
}

// stopServer stops the postmaster: pg_ctl stop -m fast, then -m immediate,
// then SIGKILL. It reports an error only if a postmaster survives.
// c.mu must be held.
func (c *Cluster) stopServer(ctx context.Context) error {
	if !c.running {
		return nil
	}
	var errs []error
	for _, mode := range []string{"fast", "immediate"} {
		if c.postmasterPID() == 0 {
			break
		}
		cmd := c.owner.command(ctx, c.BinDir, c.Dir, "pg_ctl",
			"-D", c.dataDir(), "-m", mode, "-w", "-t", "30", "stop")
		if err := run(cmd); err != nil {
			errs = append(errs, err)
			c.logf("pgcluster: stop -m %s failed: %v", mode, err)
		}
	}
	if pid := c.postmasterPID(); pid != 0 {
		syscall.Kill(pid, syscall.SIGKILL)
		if !waitGone(pid, 10*time.Second) {
			errs = append(errs, fmt.Errorf("postmaster pid %d survived SIGKILL", pid))
			return fmt.Errorf("pgcluster: stop: %w", errors.Join(errs...))
		}
	}
	c.running = false
	return nil
}

// postmasterPID returns the pid recorded in postmaster.pid if that process
// is alive, else 0.
func (c *Cluster) postmasterPID() int {
	data, err := os.ReadFile(filepath.Join(c.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0
	}
	return pid
}

// alive reports whether pid exists and is not a zombie (an orphaned
// postmaster may linger unreaped in containers without an init).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill(0)
	}
	// Format: pid (comm) state ...; comm may contain spaces or parens.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func readFrom(path string, offset int64) string {
	data, err := os.ReadFile(path)
	if err != nil || offset > int64(len(data)) {
		return ""
	}
	return string(data[offset:])
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
